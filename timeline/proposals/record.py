"""Recording what a poll's matched items say of their milestones' dates, in the poll's transaction.

For each matched item, the dates of its title and summary are read (`timeline.evidence.find_dates`,
in the feed's `lang:`, else detected) and each linked milestone is asked `decide.propose`. A new
window makes a proposal, or joins the open one that already proposes it (one more piece of
evidence); a new proposal publishes `milestone.slip_reported` when its item notifies (the backlog of
a new feed is recorded quietly, as its matches are).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from alerts.notices import NewNotice
from timeline.config.milestones import MilestoneDef
from timeline.dates import utc_text
from timeline.evidence import detect_language, find_dates
from timeline.evidence.language import normalise_language
from timeline.feeds.items import ParsedEntry
from timeline.feeds.store import FeedRow
from timeline.feeds.text import plain
from timeline.proposals.decide import Proposed, Stated, propose
from timeline.proposals.models import Proposal, ProposalEvidence
from timeline.proposals.wording import slip_message
from timeline.rules import milestone_data
from timeline.store import MILESTONES, to_def

PROPOSALS: Table = Proposal.__table__  # type: ignore[attr-defined]
PROPOSAL_EVIDENCE: Table = ProposalEvidence.__table__  # type: ignore[attr-defined]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchedItem:
    """A stored entry that matched, and whether its match notifies."""

    entry_id: int
    entry: ParsedEntry
    notify: bool


@dataclass(frozen=True)
class _Owned:
    milestone: MilestoneDef
    origin: str
    path: str | None


def stated_dates(entry: ParsedEntry, lang: str | None) -> tuple[list[Stated], str | None]:
    """The dates an entry's title and summary state, and the language they were read in: `lang`
    (the feed's `lang:`), else the one the item or its document declares, else detected."""
    sources = [text for text in (entry.title, plain(entry.summary or "")) if text]
    code = normalise_language(lang) or normalise_language(entry.language) or detect_language(" ".join(sources))
    published = entry.published
    if published is None or not sources:
        return [], code
    found = [Stated(m, text) for text in sources for m in find_dates(text, published=published, lang=code)]
    return found, code


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _milestones(conn: Connection, ids: Sequence[str]) -> dict[str, _Owned]:
    rows = conn.execute(select(MILESTONES).where(MILESTONES.c.id.in_(list(ids)), MILESTONES.c.archived_at.is_(None)))
    owned: dict[str, _Owned] = {}
    for row in rows:
        try:
            owned[row.id] = _Owned(to_def(row), row.origin, row.origin_path)
        except ValueError as exc:  # a stored window that no longer parses (a zone removed from tzdata)
            log.warning("proposals: milestone %s skipped: %s", row.id, exc)
    return owned


def file_fingerprint(path: str | Path | None) -> str | None:
    """SHA-256 of the file's bytes, or None when there is no file to read."""
    if path is None:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class _Recorder:
    def __init__(self, conn: Connection, feed: FeedRow, now: datetime) -> None:
        self.conn, self.feed, self.now = conn, feed, now
        self.fingerprints: dict[str | None, str | None] = {}

    def proposal(self, owned: _Owned, p: Proposed) -> tuple[int, bool]:
        """The id of the proposal for `p`, and whether it was made now."""
        m = owned.milestone
        values = {
            "milestone_id": m.id,
            "field": p.field,
            "current_text": p.current.text,
            "proposed_text": p.proposed.text,
        }
        if owned.origin == "config" and owned.path not in self.fingerprints:
            self.fingerprints[owned.path] = file_fingerprint(owned.path)
        row = {
            **values,
            "timezone": m.timezone,
            "current_start": p.current.start,
            "current_end": p.current.end,
            "proposed_start": p.proposed.start,
            "proposed_end": p.proposed.end,
            "slip_days": p.slip_days,
            "direction": p.direction,
            "status": "open",
            "origin": owned.origin,
            "config_path": owned.path if owned.origin == "config" else None,
            "config_fingerprint": self.fingerprints.get(owned.path) if owned.origin == "config" else None,
            "created_at": self.now,
        }
        statement = (
            _insert(self.conn)(PROPOSALS)
            .values(row)
            .on_conflict_do_nothing(index_elements=list(values))
            .returning(PROPOSALS.c.id)
        )
        made = self.conn.execute(statement).scalar()
        if made is not None:
            return int(made), True
        where = [PROPOSALS.c[k] == v for k, v in values.items()]
        return int(self.conn.execute(select(PROPOSALS.c.id).where(*where)).scalar_one()), False

    def evidence(self, proposal_id: int, item: MatchedItem, p: Proposed, lang: str | None) -> dict[str, Any]:
        mention = p.stated.mention
        row = {
            "proposal_id": proposal_id,
            "entry_id": item.entry_id,
            "feed_id": self.feed.id,
            "phrase": mention.text,
            "sentence": p.stated.sentence,
            "stated_start": mention.start,
            "stated_end": mention.end,
            "about": str(mention.about),
            "language": lang,
            "title": item.entry.title,
            "link": item.entry.link,
            "published_at": item.entry.published,
            "found_at": self.now,
        }
        statement = (
            _insert(self.conn)(PROPOSAL_EVIDENCE)
            .values(row)
            .on_conflict_do_nothing(index_elements=["proposal_id", "entry_id"])
        )
        self.conn.execute(statement)
        return row


def record_proposals(
    conn: Connection, feed: FeedRow, items: Sequence[MatchedItem], milestone_ids: Sequence[str], now: datetime
) -> list[NewNotice]:
    """Store the proposals `items` make on the milestones `milestone_ids`; return the notices of the
    proposals made now by items that notify."""
    if not items or not milestone_ids:
        return []
    owned = _milestones(conn, milestone_ids)
    if not any(o.milestone.active for o in owned.values()):
        return []
    recorder = _Recorder(conn, feed, now)
    notices: list[NewNotice] = []
    for item in items:
        stated, lang = stated_dates(item.entry, feed.lang)
        if not stated:
            continue
        for mid in sorted(owned):
            p = propose(owned[mid].milestone, stated, item.entry.published or now)
            if p is None:
                continue
            proposal_id, made = recorder.proposal(owned[mid], p)
            row = recorder.evidence(proposal_id, item, p, lang)
            if made and item.notify:
                notices.append(slip_notice(proposal_id, owned[mid].milestone, p, row, feed, now))
    return notices


def evidence_data(row: dict[str, Any], feed: FeedRow | None = None) -> dict[str, Any]:
    """A piece of evidence as receivers and readers get it."""
    published = row.get("published_at")
    return {
        "phrase": row["phrase"],
        "sentence": row["sentence"],
        "stated_window": {"start": utc_text(row["stated_start"]), "end": utc_text(row["stated_end"])},
        "about": row["about"],
        "language": row.get("language"),
        "title": row.get("title"),
        "link": row.get("link"),
        "published": utc_text(published) if published else None,
        "feed_id": row["feed_id"],
        "feed_name": feed.name if feed else row.get("feed_name"),
    }


def slip_notice(
    proposal_id: int, m: MilestoneDef, p: Proposed, row: dict[str, Any], feed: FeedRow, now: datetime
) -> NewNotice:
    evidence = evidence_data(row, feed)
    data = milestone_data(m, now)
    data |= {
        "proposal": proposal_id,
        "field": p.field,
        "current_window": {"text": p.current.text, "start": utc_text(p.current.start), "end": utc_text(p.current.end)},
        "proposed_window": {
            "text": p.proposed.text,
            "start": utc_text(p.proposed.start),
            "end": utc_text(p.proposed.end),
        },
        "slip_days": p.slip_days,
        "direction": p.direction,
        "evidence": [evidence],
        "summary": f"{feed.name} puts the {p.field} of {m.id} at {p.proposed.text}, not {p.current.text}",
    }
    message = slip_message(m.title, p.field, p.current, p.proposed, p.slip_days, evidence)
    data["message"] = message.as_dict()
    return NewNotice(
        type="milestone.slip_reported",
        key=f"milestone.slip_reported:{m.id}:{proposal_id}",
        occurred_at=now,
        data=data,
        subjects=(m.id,),
        tags=m.tags,
    )
