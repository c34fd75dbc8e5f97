"""Timeline's one clock: aware UTC, read once per evaluation and passed down (freezegun controls it
in tests). Scheduling does not use it: `timeline.jobclock` runs on the monotonic clock."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
