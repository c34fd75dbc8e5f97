"""Read models shared by the CLI and the HTTP API: milestones, notices and evidence as JSON-able dicts.

The HTTP routes call these (and `timeline.store`) rather than building queries of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, TypedDict, Unpack

from sqlalchemy import Connection, select

from alerts.notices import NOTICES, about
from timeline.dates import Window, utc_text, whole_days
from timeline.feeds.evidence import Evidence, evidence_counts, evidence_for
from timeline.store import changes_of, to_def


def _window(w: Window) -> dict[str, str]:
    return {"text": w.text, "start": utc_text(w.start), "end": utc_text(w.end), "precision": str(w.precision)}


def milestone_view(row: Any, now: datetime) -> dict[str, Any]:
    """A stored milestone with its windows, due date and days until due (negative: overdue)."""
    m = to_def(row)
    s = m.schedule
    days = whole_days(s.due_at - now)
    return {
        "id": m.id,
        "title": m.title,
        "subject": m.subject,
        "kind": "span" if m.when is None else "point",
        "status": m.status,
        "tags": list(m.tags),
        "timezone": m.timezone,
        "window": {"text": s.describe(), "opens": _window(s.opens), "closes": _window(s.closes)},
        "opens_at": utc_text(s.opens_at),
        "due_at": utc_text(s.due_at),
        "days_until_due": days,
        "source": m.source,
        "notes": m.notes,
        "attributes": m.attributes,
        "origin": row.origin,
        "revision": row.revision,
        "archived": row.archived_at is not None,
    }


def change_view(change: Any) -> dict[str, Any]:
    return {
        "id": change.id,
        "kind": change.kind,
        "at": utc_text(change.at),
        "slip_days": change.slip_days,
        "before": change.before,
        "after": change.after,
    }


def milestone_detail(conn: Connection, row: Any, now: datetime, *, evidence_limit: int) -> dict[str, Any]:
    """A milestone with its change history, its 50 latest notices and its `evidence_limit` newest
    pieces of evidence (`evidence_total` says how many there are: the rest is paged by `evidence_page`)."""
    view = milestone_view(row, now)
    view["changes"] = [change_view(c) for c in changes_of(conn, [row.id])]
    view["notices"] = list_notices(conn, subject=row.id, limit=50)
    newest = newest_evidence(conn, [row.id], per_milestone=evidence_limit)[row.id]
    view["evidence"] = newest.items
    view["evidence_total"] = newest.total
    return view


def notice_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "type": row.type,
        "subjects": list(row.subjects or []),
        "occurred_at": utc_text(row.occurred_at),
        "created_at": utc_text(row.created_at),
        "payload": row.payload,
    }


class NoticeFilter(TypedDict, total=False):
    """Which notices to read: `type_` one type, `types` any of several, created `since`, about
    `subject`, below the cursor `before_id`, at most `limit` (100 when not given)."""

    type_: str | None
    types: Sequence[str] | None
    since: datetime | None
    subject: str | None
    before_id: int | None
    limit: int


def notice_rows(conn: Connection, **only: Unpack[NoticeFilter]) -> list[Any]:
    """Notice rows newest first, filtered; `before_id` is the cursor of the next page."""
    query = select(NOTICES).order_by(NOTICES.c.id.desc()).limit(only.get("limit", 100))
    if type_ := only.get("type_"):
        query = query.where(NOTICES.c.type == type_)
    if (types := only.get("types")) is not None:
        query = query.where(NOTICES.c.type.in_(types))
    if since := only.get("since"):
        query = query.where(NOTICES.c.created_at >= since)
    if subject := only.get("subject"):
        query = query.where(about(subject))
    if before_id := only.get("before_id"):
        query = query.where(NOTICES.c.id < before_id)
    return list(conn.execute(query))


def list_notices(conn: Connection, **only: Unpack[NoticeFilter]) -> list[dict[str, Any]]:
    """Notices newest first, filtered, as dicts (see `notice_rows`)."""
    return [notice_view(row) for row in notice_rows(conn, **only)]


def notice_types(conn: Connection, patterns: Sequence[str]) -> list[str]:
    """The notice types stored so far that match any of `patterns`: globs, matched as subscriptions
    match them (`milestone.*`, `*.due`, `feed.item_matched`; case-sensitive)."""
    stored = conn.execute(select(NOTICES.c.type).distinct()).scalars()
    return sorted(t for t in stored if any(fnmatchcase(t, p) for p in patterns))


def evidence_view(e: Evidence) -> dict[str, Any]:
    """A piece of evidence as the API shows it (instants in the `...Z` form)."""
    return e.as_dict() | {
        "feed": e.feed_name,
        "published": utc_text(e.published) if e.published is not None else None,
        "matched_at": utc_text(e.matched_at),
    }


@dataclass(frozen=True)
class EvidencePage:
    """Some of a milestone's evidence, newest first, and how much it has in all."""

    items: list[dict[str, Any]]
    total: int


def evidence_page(conn: Connection, milestone_id: str, *, limit: int, offset: int = 0) -> EvidencePage:
    """`limit` pieces of a milestone's evidence from the `offset`-th newest, and its total."""
    items = evidence_for(conn, [milestone_id], limit=limit, offset=offset)[milestone_id]
    return EvidencePage([evidence_view(e) for e in items], evidence_counts(conn, [milestone_id])[milestone_id])


def newest_evidence(conn: Connection, milestone_ids: Sequence[str], *, per_milestone: int) -> dict[str, EvidencePage]:
    """The `per_milestone` newest pieces of evidence of each milestone (every id is a key), with totals:
    one milestone with 10,000 matched items costs no more to show than one with ten."""
    ids = list(dict.fromkeys(milestone_ids))
    found = evidence_for(conn, ids, limit=per_milestone)
    totals = evidence_counts(conn, ids)
    return {mid: EvidencePage([evidence_view(e) for e in found[mid]], totals[mid]) for mid in ids}
