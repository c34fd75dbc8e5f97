"""Due scan over a large timeline: its cost must follow the number due, not the total.

1,000,000 milestones in a fresh SQLite file, 100 of them due now. Ours: `scan_due` (reads the rows
whose next stage has begun, through an index). Baseline: the naive scan that loads every milestone
and asks the rules about each. Times in milliseconds; ratio = ours / baseline (lower is better).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from timeline import rules
from timeline.db import make_engine, upgrade
from timeline.scan import scan_due
from timeline.store import MILESTONES, to_def

NOW = datetime(2027, 6, 1, tzinfo=UTC)
Row = tuple[str, float, float, float]


def _rows(total: int, due: int) -> list[dict[str, object]]:
    rows = []
    for i in range(total):
        year = 2028 + i % 20
        is_due = i < due
        opens = datetime(year, 1, 1, tzinfo=UTC)
        rows.append(
            {
                "id": f"m{i:07d}",
                "title": f"Milestone {i}",
                "when_text": "2027-05" if is_due else str(year),
                "timezone": "UTC",
                "opens_at": datetime(2027, 5, 1, tzinfo=UTC) if is_due else datetime(year, 1, 1, tzinfo=UTC),
                "due_at": datetime(2027, 6, 1, tzinfo=UTC) if is_due else datetime(year + 1, 1, 1, tzinfo=UTC),
                "status": "planned",
                "tags": [],
                "attributes": {},
                "remind": [7776000, 2592000, 604800, 86400],
                "grace_seconds": 2592000,
                "repeat_seconds": 2592000,
                "origin": "config",
                "revision": 1,
                "next_check_at": NOW - timedelta(minutes=1) if is_due else opens - timedelta(days=90),
                "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
            }
        )
    return rows


def _fill(engine: Engine, total: int, due: int) -> None:
    """Bulk load through the driver (values pre-serialised as SQLite stores them): fast set-up."""
    rows = _rows(total, due)
    columns = list(rows[0])
    sql = f"INSERT INTO milestones ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"

    def raw(value: object) -> object:
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        return json.dumps(value) if isinstance(value, list | dict) else value

    with engine.begin() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for start in range(0, len(rows), 50_000):
            cursor.executemany(sql, [tuple(raw(row[c]) for c in columns) for row in rows[start : start + 50_000]])


def _naive(engine: Engine) -> int:
    with engine.connect() as conn:
        milestones = [(to_def(row), row.created_at) for row in conn.execute(select(MILESTONES))]
    return sum(len(d.notices) for d in rules.scan(milestones, set(), NOW, False).values())


def run(total: int = 1_000_000, due: int = 100) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'scan.db'}"
        engine = make_engine(url)
        upgrade(engine)
        _fill(engine, total, due)
        ours = []
        for _ in range(5):
            # Each run finds the same 100 due: put them back first (outside the timing).
            with engine.begin() as conn:
                back = MILESTONES.update().where(MILESTONES.c.id < f"m{due:07d}")
                conn.execute(back.values(next_check_at=NOW - timedelta(minutes=1)))
                conn.exec_driver_sql("DELETE FROM notice_subjects")
                conn.exec_driver_sql("DELETE FROM notices")
            started = time.perf_counter()
            created = scan_due(engine, NOW)
            ours.append((time.perf_counter() - started) * 1000)
            assert len(created) == due, len(created)
        started = time.perf_counter()
        naive_created = _naive(engine)
        baseline = (time.perf_counter() - started) * 1000
        assert naive_created >= due
        engine.dispose()
    mine = statistics.median(ours)
    return [(f"due scan, {due} due of {total:,} (ms)", mine, baseline, mine / baseline)]


if __name__ == "__main__":
    for name, ours_ms, base_ms, ratio in run():
        print(f"{name}: ours {ours_ms:.1f}, full scan {base_ms:.1f}, ratio {ratio:.4f}")
