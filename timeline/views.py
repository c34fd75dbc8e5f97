"""Read models shared by the CLI and the HTTP API: milestones and notices as JSON-able dicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import Connection, select

from alerts.notices import NOTICES, about
from timeline.dates import Window
from timeline.rules import iso
from timeline.store import to_def


def _window(w: Window) -> dict[str, str]:
    return {"text": w.text, "start": iso(w.start), "end": iso(w.end), "precision": str(w.precision)}


def milestone_view(row: Any, now: datetime) -> dict[str, Any]:
    """A stored milestone with its windows, due date and days until due (negative: overdue)."""
    m = to_def(row)
    s = m.schedule
    seconds = (s.due_at - now).total_seconds()
    days = int(seconds // 86400) if seconds >= 0 else -int(-seconds // 86400)
    return {
        "id": m.id,
        "title": m.title,
        "subject": m.subject,
        "kind": "span" if m.when is None else "point",
        "status": m.status,
        "tags": list(m.tags),
        "timezone": m.timezone,
        "window": {"text": s.describe(), "opens": _window(s.opens), "closes": _window(s.closes)},
        "opens_at": iso(s.opens_at),
        "due_at": iso(s.due_at),
        "days_until_due": days,
        "source": m.source,
        "notes": m.notes,
        "attributes": m.attributes,
        "origin": row.origin,
        "revision": row.revision,
        "archived": row.archived_at is not None,
    }


def notice_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "type": row.type,
        "subjects": list(row.subjects or []),
        "occurred_at": iso(row.occurred_at),
        "created_at": iso(row.created_at),
        "payload": row.payload,
    }


def list_notices(
    conn: Connection,
    *,
    type_: str | None = None,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
    subject: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Notices newest first, filtered (`type_` one type, `types` any of several); `before_id` is the
    cursor of the next page."""
    query = select(NOTICES).order_by(NOTICES.c.id.desc()).limit(limit)
    if type_:
        query = query.where(NOTICES.c.type == type_)
    if types is not None:
        query = query.where(NOTICES.c.type.in_(types))
    if since:
        query = query.where(NOTICES.c.created_at >= since)
    if subject:
        query = query.where(about(subject))
    if before_id:
        query = query.where(NOTICES.c.id < before_id)
    return [notice_view(row) for row in conn.execute(query)]


def notice_types(conn: Connection, patterns: Sequence[str]) -> list[str]:
    """The notice types stored so far that match any of `patterns`: globs, matched as subscriptions
    match them (`milestone.*`, `*.due`, `feed.item_matched`; case-sensitive)."""
    stored = conn.execute(select(NOTICES.c.type).distinct()).scalars()
    return sorted(t for t in stored if any(fnmatchcase(t, p) for p in patterns))
