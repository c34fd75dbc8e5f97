"""Accepting and rejecting proposals.

Accepting a proposal on a milestone of milestones.yaml writes the proposed value into the file
(`writeback`), optionally commits it with git (`TIMELINE_PROPOSALS_GIT_COMMIT`), and applies the
config as any edit is applied: the change is recorded and `milestone.rescheduled` is published. A
milestone created through the API is edited by the API's own function (`timeline.editing`). The
proposal's status moves from open only once (`UPDATE ... WHERE status = 'open'`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from timeline.db import write_transaction
from timeline.editing import config_defaults, update_milestone
from timeline.errors import ConflictError, NotFoundError
from timeline.humanize import day
from timeline.proposals.reads import get_proposal
from timeline.proposals.record import PROPOSAL_EVIDENCE, PROPOSALS
from timeline.proposals.writeback import Written, git_commit, write_back
from timeline.store import MILESTONES

if TYPE_CHECKING:
    from timeline.service import Service

MAX_REASON = 2000


@dataclass(frozen=True)
class Accepted:
    proposal: dict[str, Any]
    written: Written | None
    committed: str | None
    notices: list[str]
    unapplied: str | None = None
    """Why the config files did not apply after the write (another problem in them), if so."""


def _open(conn: Connection, proposal_id: int) -> Any:
    row = conn.execute(select(PROPOSALS).where(PROPOSALS.c.id == proposal_id)).first()
    if row is None:
        raise NotFoundError(f"no proposal {proposal_id}; `timeline proposals --all` lists them")
    if row.status != "open":
        when = f" on {day(row.decided_at)}" if row.decided_at else ""
        raise ConflictError(f"proposal {proposal_id} was already {row.status}{when}")
    return row


def _decide(conn: Connection, proposal_id: int, status: str, now: datetime, reason: str | None) -> None:
    done = conn.execute(
        update(PROPOSALS)
        .where(PROPOSALS.c.id == proposal_id, PROPOSALS.c.status == "open")
        .values(status=status, decided_at=now, reason=reason)
    )
    if done.rowcount != 1:
        raise ConflictError(f"proposal {proposal_id} was decided by someone else meanwhile")


def reject(service: Service, proposal_id: int, now: datetime, reason: str | None = None) -> dict[str, Any]:
    """Close the proposal without changing the milestone; `reason` is kept."""
    text = " ".join(reason.split())[:MAX_REASON] if reason else None
    with write_transaction(service.engine) as conn:
        _open(conn, proposal_id)
        _decide(conn, proposal_id, "rejected", now, text or None)
        found = get_proposal(conn, proposal_id)
    assert found is not None
    return found


def _commit_message(row: Any, link: str | None) -> str:
    lines = [f"{row.milestone_id}: {row.field} {row.current_text} -> {row.proposed_text} (proposal {row.id})"]
    if link:
        lines += ["", f"Evidence: {link}"]
    return "\n".join(lines)


def _first_link(conn: Connection, proposal_id: int) -> str | None:
    e = PROPOSAL_EVIDENCE.c
    query = select(e.link).where(e.proposal_id == proposal_id, e.link.is_not(None)).order_by(e.id).limit(1)
    return conn.execute(query).scalar()


def accept(service: Service, proposal_id: int, now: datetime) -> Accepted:
    """Make the proposed value the milestone's (see the module's docstring)."""
    settings = service.settings
    with service.engine.connect() as conn:
        row = _open(conn, proposal_id)
        milestone = conn.execute(select(MILESTONES).where(MILESTONES.c.id == row.milestone_id)).first()
        link = _first_link(conn, proposal_id)
    if milestone is None or milestone.archived_at is not None:
        raise ConflictError(f"milestone {row.milestone_id!r} no longer exists; reject proposal {proposal_id}")
    written: Written | None = None
    committed: str | None = None
    notices: list[str] = []
    unapplied: str | None = None
    if milestone.origin == "config":
        path = Path(row.config_path) if row.config_path else settings.milestones_file
        written = write_back(
            path,
            row.milestone_id,
            row.field,
            row.current_text,
            row.proposed_text,
            fingerprint_then=row.config_fingerprint,
        )
        if settings.proposals_git_commit:
            committed = git_commit(path, _commit_message(row, link))
        result = service.reload_config(now, force=True)
        notices = result.notices if result is not None else []
        problems = service.config_status().problems
        if result is None and problems:
            unapplied = "; ".join(str(problem) for problem in problems[:3])
    else:
        current = {"when": milestone.when_text, "starts": milestone.starts_text, "ends": milestone.ends_text}
        if current.get(row.field) != row.current_text:
            raise ConflictError(
                f"{row.field} of {row.milestone_id} is now {current.get(row.field)!r}, not {row.current_text!r} "
                f"as when proposal {proposal_id} was made; reject it"
            )
        update_milestone(
            service.engine,
            row.milestone_id,
            {row.field: row.proposed_text},
            now,
            defaults=config_defaults(settings.milestones_file),
            config_file=settings.milestones_file,
        )
    with write_transaction(service.engine) as conn:
        _decide(conn, proposal_id, "accepted", now, None)
        found = get_proposal(conn, proposal_id)
    assert found is not None
    return Accepted(found, written, committed, notices, unapplied)
