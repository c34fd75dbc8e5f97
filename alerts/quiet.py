"""Quiet hours: the daily window of a subscription's local time in which nothing is sent to it.

`quiet: 22:00-07:00 Europe/Paris` holds every day from 22:00 to 07:00 the next morning, Paris time
(a window whose end is after its start, `12:00-14:00`, holds within the day). A delivery that comes
due inside the window waits until it ends. Pure: `parse_quiet` reads the text (never raises: it
returns the problem), `release_at` moves an instant out of the window. Wall times that do not exist
on the day clocks go forward, or exist twice when they go back, are read as Python's `zoneinfo`
reads them (fold 0: the earlier reading); `release_at` only ever moves time forward, and keeps the
order of what it moves (see its docstring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})(?:\s+(\S+))?\s*$")
EXAMPLE = "22:00-07:00 Europe/Paris"


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: str = "UTC"

    def text(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M} {self.zone}"

    def _windows(self, around: date) -> list[tuple[datetime, datetime]]:
        """The windows (UTC instants) that begin on the local days around `around`."""
        tz = ZoneInfo(self.zone)
        windows = []
        for offset in range(-2, 3):
            day = around + timedelta(days=offset)
            last = day + timedelta(days=1) if self.end <= self.start else day
            start = datetime.combine(day, self.start, tz).astimezone(UTC)
            end = datetime.combine(last, self.end, tz).astimezone(UTC)
            if start < end:
                windows.append((start, end))
        return windows


def zone_of(text: str) -> ZoneInfo | None:
    """The IANA zone named `text`, or None when there is no such zone."""
    if not text or text.startswith(("/", ".")) or ".." in text or "\x00" in text:
        return None
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_quiet(text: object) -> QuietHours | str:
    """The quiet hours `text` states (`22:00-07:00 Europe/Paris`; without a zone, UTC), or the
    problem with it, in words for the user. Never raises."""
    if not isinstance(text, str):
        return f"quiet hours are written like {EXAMPLE!r}"
    found = _QUIET.match(text)
    if found is None:
        return f"{text!r} is not quiet hours; write them like {EXAMPLE!r}"
    h1, m1, h2, m2, zone = found.groups()
    if not (int(h1) < 24 and int(m1) < 60 and int(h2) < 24 and int(m2) < 60):
        return f"{text!r}: a time of day runs from 00:00 to 23:59"
    start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
    if start == end:
        return f"{text!r}: the quiet hours start and end at the same time; give a window like {EXAMPLE!r}"
    zone = zone or "UTC"
    if zone_of(zone) is None:
        return f"{text!r}: {zone!r} is not a time zone; use an IANA name such as Europe/Paris or America/New_York"
    return QuietHours(start, end, zone)


def release_at(quiet: QuietHours, due: datetime) -> datetime:
    """When something due at `due` may go: `due` itself outside the quiet hours, else the end of
    the quiet window it falls in (windows that touch or overlap count as one). It is never before
    `due`, never inside a window, and keeps order: an earlier `due` never goes after a later one."""
    moment = due.astimezone(UTC)
    while True:
        local_day = moment.astimezone(ZoneInfo(quiet.zone)).date()
        ends = [end for start, end in quiet._windows(local_day) if start <= moment < end]
        if not ends:
            return moment
        moment = max(ends)
