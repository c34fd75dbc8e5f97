"""Four years of the shipped timeline, walked with a frozen clock and random restarts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from freezegun import freeze_time
from sqlalchemy import Engine, select

from alerts.notices import NOTICES
from timeline.service import Service
from timeline.settings import load_settings

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2029, 1, 1, tzinfo=UTC)
STEP = timedelta(hours=12)


def test_every_notice_exactly_once_at_the_first_scan_after_its_time(
    sqlite_engine: Engine, milestones_config: Path
) -> None:
    settings = load_settings(config_dir=milestones_config, database_url=str(sqlite_engine.url))
    rng = random.Random(2025)
    service = Service(settings, engine=sqlite_engine)
    now = START
    restarts = 0
    with freeze_time(now) as clock:
        service.reload_config(now, force=True)
        while now < END:
            if rng.random() < 0.02:  # a restart: nothing kept in memory
                service = Service(settings, engine=sqlite_engine)
                service.reload_config(now, force=True)
                restarts += 1
            service.scan(now)
            now += STEP
            clock.move_to(now)
    assert restarts > 20

    with sqlite_engine.connect() as conn:
        rows = list(conn.execute(select(NOTICES).order_by(NOTICES.c.id)))
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys))
    for row in rows:
        assert timedelta(0) <= row.created_at - row.occurred_at < STEP, row.key

    def of(milestone: str) -> list[tuple[str, str]]:
        return [(r.key, r.created_at.isoformat()[:10]) for r in rows if r.subject == milestone]

    construction_due = ["2028-01-01"] + [
        (datetime(2028, 1, 31) + timedelta(days=30 * k)).date().isoformat() for k in range(12)
    ]
    assert [day for _, day in of("anthropic-us-construction")] == ["2025-01-01", *construction_due]
    assert of("anthropic-us-construction")[1][0] == "milestone.due:anthropic-us-construction:2028-01-01T00:00:00Z"
    assert [key.split(":")[0] + " " + day for key, day in of("anthropic-next-gen-models")][:6] == [
        "milestone.upcoming 2027-12-02",
        "milestone.upcoming 2027-12-25",
        "milestone.window_opened 2028-01-01",
        "milestone.due 2028-07-01",
        "milestone.overdue 2028-07-31",
        "milestone.overdue 2028-08-30",
    ]
    # Known from the start: the 2025 start opens on the first day, is due when 2025 ends.
    assert of("anthropic-construction-start")[:3] == [
        ("milestone.window_opened:anthropic-construction-start:2025-01-01T00:00:00Z", "2025-01-01"),
        ("milestone.due:anthropic-construction-start:2026-01-01T00:00:00Z", "2026-01-01"),
        ("milestone.overdue:anthropic-construction-start:2026-01-01T00:00:00Z:1", "2026-01-31"),
    ]
    assert of("anthropic-announcement") == []  # done
    # Stockholm's day starts at 23:00 UTC: its window opening is created by the next scan, at midnight UTC.
    assert of("microsoft-sweden")[4] == ("milestone.window_opened:microsoft-sweden:2025-12-30T23:00:00Z", "2025-12-31")
