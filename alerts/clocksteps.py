"""After the wall clock stepped back: bring the outbox's stored times back in step.

Retries and leases are stored as wall-clock instants, shared by every worker. A step back of an
hour (NTP, a resumed VM, `date -s`) would make a retry due in 30 s wait an hour and a half. The
rows written before the step carry an `updated_at` later than the new `now`: each keeps the delay it
had from that stamp, counted from `now` instead. Idempotent: a rebased row is stamped `now`, so a
second worker noticing the same step finds nothing left to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, and_, bindparam, select, update

from alerts.models import Delivery

DELIVERIES: Table = Delivery.__table__  # type: ignore[attr-defined]


def rebase_future(conn: Connection, now: datetime) -> int:
    """Rebase the pending retries and the leases stamped after `now`; the number of rows moved."""
    d = DELIVERIES.c
    rows = conn.execute(
        select(d.id, d.status, d.next_attempt_at, d.lease_until, d.updated_at).where(
            and_(d.status.in_(("pending", "in_flight")), d.updated_at > now)
        )
    ).all()
    if not rows:
        return 0
    moved = [
        {
            "row_id": row.id,
            "next_at": shifted(row.next_attempt_at, row.updated_at, now),
            "lease": shifted(row.lease_until, row.updated_at, now),
            "stamp": now,
        }
        for row in rows
    ]
    conn.execute(
        update(DELIVERIES)
        .where(d.id == bindparam("row_id"))
        .values(next_attempt_at=bindparam("next_at"), lease_until=bindparam("lease"), updated_at=bindparam("stamp")),
        moved,
    )
    return len(moved)


def shifted(when: datetime | None, stamp: datetime, now: datetime) -> datetime | None:
    """`when`, as far after `now` as it was after `stamp` (never before `now`)."""
    if when is None:
        return None
    return now + max(when - stamp, timedelta(0))
