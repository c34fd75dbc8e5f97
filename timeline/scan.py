"""The due scan: apply `timeline.rules` to the milestones whose next stage has begun.

Only rows with `next_check_at <= now` are read (an index), so the cost follows the number due, not
the size of the timeline. Several workers may scan at once: on PostgreSQL they split the due rows
(FOR UPDATE SKIP LOCKED), SQLite serialises writers, and notice keys are unique either way.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam, update

from alerts.notices import existing_keys, publish
from timeline import rules
from timeline.db import write_transaction
from timeline.store import MILESTONES, due_for_scan, to_def

BATCH = 500


def scan_due(engine: Engine, now: datetime, *, notify_past: bool = False, base_url: str | None = None) -> list[str]:
    """Create the notices due at `now`; return their keys. Idempotent: a rerun creates nothing.
    `base_url` (TIMELINE_PUBLIC_URL) is what the messages link to."""
    created: list[str] = []
    while True:
        with write_transaction(engine) as conn:
            rows = due_for_scan(conn, now, BATCH)
            if not rows:
                return created
            milestones = [(to_def(row), row.created_at) for row in rows]
            sent = existing_keys(conn, [m.id for m, _ in milestones])
            decisions = rules.scan(milestones, sent, now, notify_past, base_url)
            created += publish(conn, [n for d in decisions.values() for n in d.notices], now)
            conn.execute(
                update(MILESTONES)
                .where(MILESTONES.c.id == bindparam("mid"))
                .values(next_check_at=bindparam("next_at")),
                [{"mid": mid, "next_at": d.next_check_at} for mid, d in decisions.items()],
            )
