"""Small builders for milestones in tests."""

from __future__ import annotations

from datetime import timedelta

from timeline.config.milestones import MilestoneDef
from timeline.dates import point, span

DAYS = [timedelta(days=d) for d in (90, 30, 7, 1)]


def milestone(
    mid: str = "m",
    when: str | None = "2026-07-01",
    *,
    starts: str | None = None,
    ends: str | None = None,
    tz: str = "UTC",
    status: str = "planned",
    remind: list[timedelta] | None = None,
    grace: timedelta = timedelta(days=30),
    repeat: timedelta | None = timedelta(days=30),
) -> MilestoneDef:
    schedule = span(starts, ends, tz) if starts and ends else point(when or "", tz)
    return MilestoneDef(
        id=mid,
        title=f"Milestone {mid}",
        schedule=schedule,
        timezone=tz,
        when=None if starts else when,
        starts=starts,
        ends=ends,
        status=status,
        remind=tuple(DAYS if remind is None else remind),
        grace=grace,
        repeat=repeat,
    )
