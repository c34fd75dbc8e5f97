"""After the wall clock stepped back: bring the stored due times back in step.

The scheduler runs on the monotonic clock, but when a feed is next polled and when a delivery is
retried are wall-clock instants in the database, shared by every worker. Stepped back an hour, a
feed due in 15 minutes would wait an hour and a quarter. The scheduler notices a step (the wall
clock moved less than the monotonic one, by more than `STEP_TOLERANCE`) and calls `rebase`: every
row stamped after the new `now` keeps the delay it had from its stamp, counted from `now`.
Milestones need nothing: their stages are wall-clock dates, due when the wall clock says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, or_, select, update

from alerts.clocksteps import rebase_future, shifted
from timeline.db import write_transaction
from timeline.feeds.store import FEEDS


@dataclass(frozen=True)
class Rebased:
    feeds: int
    deliveries: int


def rebase(engine: Engine, now: datetime) -> Rebased:
    """Rebase the feeds' next polls and the outbox's retries and leases stamped after `now`."""
    with write_transaction(engine) as conn:
        return Rebased(_rebase_feeds(conn, now), rebase_future(conn, now))


def _rebase_feeds(conn: Connection, now: datetime) -> int:
    f = FEEDS.c
    rows = conn.execute(
        select(f.id, f.next_poll_at, f.last_polled_at, f.updated_at).where(
            or_(f.last_polled_at > now, f.updated_at > now)
        )
    ).all()
    if not rows:
        return 0
    moved = []
    for row in rows:
        stamp = max(t for t in (row.last_polled_at, row.updated_at) if t is not None)
        moved.append(
            {
                "feed_id": row.id,
                "next_at": shifted(row.next_poll_at, stamp, now),
                "polled": min(row.last_polled_at, now) if row.last_polled_at is not None else None,
                "stamp": now,
            }
        )
    conn.execute(
        update(FEEDS)
        .where(f.id == bindparam("feed_id"))
        .values(next_poll_at=bindparam("next_at"), last_polled_at=bindparam("polled"), updated_at=bindparam("stamp")),
        moved,
    )
    return len(moved)
