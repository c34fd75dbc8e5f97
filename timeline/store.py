"""Milestones in the database: rows to `MilestoneDef`s and back, and the queries the rest share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, func, select

from timeline.config.milestones import MilestoneDef
from timeline.dates import point, span
from timeline.models import Milestone, MilestoneChange

MILESTONES: Table = Milestone.__table__  # type: ignore[attr-defined]
CHANGES: Table = MilestoneChange.__table__  # type: ignore[attr-defined]


def to_def(row: Any) -> MilestoneDef:
    """A stored row (mapping or Row) as a `MilestoneDef`, windows re-parsed in their zone."""
    r = row._mapping if hasattr(row, "_mapping") else row
    if r["when_text"] is not None:
        schedule = point(r["when_text"], r["timezone"])
    else:
        schedule = span(r["starts_text"], r["ends_text"], r["timezone"])
    return MilestoneDef(
        id=r["id"],
        title=r["title"],
        schedule=schedule,
        timezone=r["timezone"],
        subject=r["subject"],
        when=r["when_text"],
        starts=r["starts_text"],
        ends=r["ends_text"],
        status=r["status"],
        tags=tuple(r["tags"] or ()),
        source=r["source"],
        notes=r["notes"],
        attributes=dict(r["attributes"] or {}),
        remind=tuple(timedelta(seconds=s) for s in r["remind"] or ()),
        grace=timedelta(seconds=r["grace_seconds"]),
        repeat=timedelta(seconds=r["repeat_seconds"]) if r["repeat_seconds"] is not None else None,
    )


def to_values(m: MilestoneDef) -> dict[str, Any]:
    """The columns a `MilestoneDef` determines (not origin, timestamps or scan state)."""
    return {
        "id": m.id,
        "title": m.title,
        "subject": m.subject,
        "when_text": m.when,
        "starts_text": m.starts,
        "ends_text": m.ends,
        "timezone": m.timezone,
        "opens_at": m.schedule.opens_at,
        "due_at": m.schedule.due_at,
        "status": m.status,
        "tags": list(m.tags),
        "source": m.source,
        "notes": m.notes,
        "attributes": m.attributes,
        "remind": [int(r.total_seconds()) for r in m.remind],
        "grace_seconds": int(m.grace.total_seconds()),
        "repeat_seconds": int(m.repeat.total_seconds()) if m.repeat is not None else None,
    }


def snapshot(m: MilestoneDef) -> dict[str, Any]:
    """A JSON-able picture of `m` for the change history."""
    values = to_values(m)
    values["opens_at"] = m.schedule.opens_at.isoformat()
    values["due_at"] = m.schedule.due_at.isoformat()
    values["window"] = m.schedule.describe()
    return values


def all_rows(conn: Connection, *, include_archived: bool = False) -> list[Any]:
    query = select(MILESTONES).order_by(MILESTONES.c.due_at, MILESTONES.c.id)
    if not include_archived:
        query = query.where(MILESTONES.c.archived_at.is_(None))
    return list(conn.execute(query))


def milestone_rows(
    conn: Connection,
    *,
    tag: str | None = None,
    status: str | None = None,
    subject: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    include_archived: bool = False,
) -> list[Any]:
    """Milestones in time order (window start, then due, then id), filtered: `start`/`end` keep those
    still open after `start` and opening before `end`; `tag` those carrying it."""
    c = MILESTONES.c
    query = select(MILESTONES).order_by(c.opens_at, c.due_at, c.id)
    if not include_archived:
        query = query.where(c.archived_at.is_(None))
    if status:
        query = query.where(c.status == status)
    if subject:
        query = query.where(c.subject == subject)
    if start is not None:
        query = query.where(c.due_at > start)
    if end is not None:
        query = query.where(c.opens_at < end)
    rows = list(conn.execute(query))
    return [r for r in rows if tag in (r.tags or [])] if tag else rows


def milestone_row(conn: Connection, milestone_id: str) -> Any | None:
    """One milestone (archived ones too), or None."""
    return conn.execute(select(MILESTONES).where(MILESTONES.c.id == milestone_id)).first()


def last_changed(conn: Connection) -> datetime | None:
    """When any milestone last changed (was added, edited, rescheduled or archived); None without any."""
    moment: datetime | None = conn.execute(select(func.max(MILESTONES.c.updated_at))).scalar()
    return moment


def changes_of(conn: Connection, milestone_ids: Sequence[str]) -> list[Any]:
    query = select(CHANGES).where(CHANGES.c.milestone_id.in_(list(milestone_ids))).order_by(CHANGES.c.id)
    return list(conn.execute(query))


def due_for_scan(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Milestones whose next stage has begun: the scan's cost follows what is due, not the total.

    Only the `next_check_at` index is used: archiving a milestone clears its `next_check_at`, so no
    other condition is needed (one would tempt the planner into a full walk of another index)."""
    query = (
        select(MILESTONES)
        .where(MILESTONES.c.next_check_at <= now)
        .order_by(MILESTONES.c.next_check_at)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: workers split the due rows; SQLite ignores it
    )
    return list(conn.execute(query))
