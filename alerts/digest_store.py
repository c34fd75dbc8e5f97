"""Sending digests: the notices a digest subscription collected become one `digest` notice.

A subscription with a `digest` schedule gets its deliveries `collected` at fan-out instead of
pending. `publish_due_digests` runs with every delivery pass: for each such subscription whose
latest digest time (`alerts.digests.period_end`) has passed with deliveries collected before it, it
publishes one notice of type `digest` keyed `digest:<subscription>:<that time>` holding the collected
notices, addressed to that subscription alone, and marks the collected deliveries `digested`, in the
caller's transaction. The key is unique, so across restarts and any number of workers each period's
digest is created once: a second worker's insert finds the key taken and marks nothing. A service
that was down at the digest time sends it at its next pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select, update

from alerts.digests import DIGEST, digest_message, parse_digest, period_end
from alerts.models import Delivery, Notice, Subscription
from alerts.newnotice import NewNotice
from alerts.notices import publish

DELIVERIES: Table = Delivery.__table__  # type: ignore[attr-defined]
NOTICES: Table = Notice.__table__  # type: ignore[attr-defined]
SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[attr-defined]
COLLECTED, DIGESTED = "collected", "digested"
MAX_NOTICES = 1000
"""The most notices one digest holds; more wait for the next one."""


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def digest_targets(conn: Connection) -> dict[str, str]:
    """The active subscriptions with a digest schedule: id -> schedule text."""
    s = SUBSCRIPTIONS.c
    query = select(s.id, s.digest).where(s.active.is_(True), s.digest.is_not(None))
    return {row.id: row.digest for row in conn.execute(query)}


def publish_due_digests(conn: Connection, now: datetime) -> list[str]:
    """Publish the digests whose time has come (see the module); the keys of those created."""
    created: list[str] = []
    for sub_id, text in digest_targets(conn).items():
        schedule = parse_digest(text)
        if isinstance(schedule, str):
            continue
        end = period_end(schedule, now)
        created += _publish_one(conn, sub_id, schedule.zone, end, now)
    return created


def _publish_one(conn: Connection, sub_id: str, zone: str, end: datetime, now: datetime) -> list[str]:
    d, n = DELIVERIES.c, NOTICES.c
    rows = conn.execute(
        select(d.id, n.payload, n.created_at)
        .join(NOTICES, n.id == d.notice_id)
        .where(d.subscription_id == sub_id, d.status == COLLECTED, n.created_at < end)
        .order_by(n.id)
        .limit(MAX_NOTICES)
    ).all()
    if not rows:
        return []
    payloads: list[Any] = [row.payload for row in rows]
    since = min(row.created_at for row in rows)
    message = digest_message(payloads, since, end, zone)
    key = f"{DIGEST}:{sub_id}:{_iso(end)}"
    notice = NewNotice(
        type=DIGEST,
        key=key,
        occurred_at=end,
        data={
            "subscription_id": sub_id,
            "period_end": _iso(end),
            "count": len(payloads),
            "notices": payloads,
            "title": message.headline,
            "summary": message.text,
            "message": message.as_dict(),
        },
        subjects=(sub_id,),
    )
    new = publish(conn, [notice], now)
    if new:
        ids = [row.id for row in rows]
        conn.execute(
            update(DELIVERIES)
            .where(d.id.in_(ids), d.status == COLLECTED)
            .values(status=DIGESTED, last_error=f"sent in the digest {key}", next_attempt_at=None, updated_at=now)
        )
    return new
