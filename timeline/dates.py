"""Fuzzy dates as windows.

"Construction runs through 2027" names a period, not an instant. Every date a user writes is parsed
into a `Window` `[start, end)` in the milestone's time zone, stored as aware UTC instants:

    2025                  the year            [2025-01-01, 2026-01-01)
    2025-H2               a half              [2025-07-01, 2026-01-01)
    2025-Q3               a quarter           [2025-07-01, 2025-10-01)
    2025-09               a month             [2025-09-01, 2025-10-01)
    2025-09-15            a day               [2025-09-15, 2025-09-16)
    2025-09-15T10:30+02:00  an instant, to the precision written (a minute here, a second with :SS)

Pure: no I/O, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

HINT = "use 2025, 2025-H2, 2025-Q3, 2025-09, 2025-09-15 or an ISO datetime like 2025-09-15T10:00+02:00"
FIRST_YEAR, LAST_YEAR = 1900, 2999


class Precision(StrEnum):
    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    MONTH = "month"
    DAY = "day"
    MINUTE = "minute"
    SECOND = "second"

    @property
    def is_date(self) -> bool:
        """True for calendar periods (whole local days), False for instants."""
        return self not in (Precision.MINUTE, Precision.SECOND)


@dataclass(frozen=True, order=True)
class Window:
    """A half-open interval `[start, end)` of aware UTC instants, with the text it came from."""

    start: datetime
    end: datetime
    precision: Precision
    text: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.start.utcoffset() != timedelta(0) or self.end.utcoffset() != timedelta(0):
            raise ValueError("window bounds must be aware UTC datetimes")
        if not self.start < self.end:
            raise ValueError(f"empty window {self.text!r}")

    def __contains__(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.timezone))


_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-H([12])$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or ValueError that says what to write."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a known time zone; use an IANA name like UTC, Europe/Paris or America/Chicago"
        ) from None


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz`, as UTC.

    A midnight that happens twice (clocks set back to it) starts the day at its first occurrence
    (fold=0). A midnight the clocks jump over (America/Havana on 2026-03-08: 00:00 becomes 01:00)
    starts the day at the end of the jump, 01:00 there: read with fold=0, a wall time in a gap
    takes the offset from before the jump, which puts a midnight where the jump begins exactly at
    the instant of the jump (every zone whose clocks jump over midnight jumps from midnight).
    """
    naive = datetime(day.year, day.month, day.day)  # noqa: DTZ001 (a wall time, given its zone below)
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def _period(first: date, last: date, precision: Precision, text: str, tz_name: str) -> Window:
    """The window from the midnight starting `first` to the one starting `last`, in `tz_name`."""
    tz = zone(tz_name)
    return Window(_local_midnight(first, tz), _local_midnight(last, tz), precision, text, tz_name)


def _checked_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date; {HINT}") from None


def parse_window(value: str | int | date | datetime, timezone: str = "UTC") -> Window:
    """Parse what a user wrote into a `Window` in `timezone`. Raises ValueError naming the value and the forms."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a date; {HINT}")
    if isinstance(value, datetime | date):
        value = value.isoformat()
    text = str(value).strip()
    if re.match(r"^\d{4}(-|$)", text) and not FIRST_YEAR <= int(text[:4]) <= LAST_YEAR:
        raise ValueError(f"{text!r} is out of range; years {FIRST_YEAR} to {LAST_YEAR} are accepted")
    if m := _YEAR.match(text):
        year = int(m[1])
        return _period(date(year, 1, 1), date(year + 1, 1, 1), Precision.YEAR, text, timezone)
    if m := _HALF.match(text):
        year, half = int(m[1]), int(m[2])
        first = date(year, 6 * half - 5, 1)
        return _period(first, _add_months(first, 6), Precision.HALF, f"{year:04d}-H{half}", timezone)
    if m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        first = date(year, 3 * quarter - 2, 1)
        return _period(first, _add_months(first, 3), Precision.QUARTER, f"{year:04d}-Q{quarter}", timezone)
    if m := _MONTH.match(text):
        first = _checked_date(int(m[1]), int(m[2]), 1, text)
        return _period(first, _add_months(first, 1), Precision.MONTH, text, timezone)
    if m := _DAY.match(text):
        day = _checked_date(int(m[1]), int(m[2]), int(m[3]), text)
        return _period(day, day + timedelta(days=1), Precision.DAY, text, timezone)
    if _INSTANT.match(text):
        return _instant(text, timezone)
    raise ValueError(f"{text!r} is not a date; {HINT}")


def _instant(text: str, timezone: str) -> Window:
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date; {HINT}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    has_seconds = text.count(":") >= 2 and not re.search(r"T\d{2}:\d{2}[+-]\d{2}:\d{2}$", text)
    precision = Precision.SECOND if has_seconds else Precision.MINUTE
    step = timedelta(seconds=1) if has_seconds else timedelta(minutes=1)
    start = moment.astimezone(UTC)
    return Window(start, start + step, precision, text, timezone)


@dataclass(frozen=True)
class Schedule:
    """When a milestone's window opens and when it is due.

    A point milestone (`when`) opens and closes with its one window; a span (`starts` + `ends`) opens
    with the start window and is due at the end of the end window: "runs through 2027" is due on
    2028-01-01 00:00, not on 2027-01-01.
    """

    opens: Window
    closes: Window

    @property
    def opens_at(self) -> datetime:
        return self.opens.start

    @property
    def due_at(self) -> datetime:
        return self.closes.end

    @property
    def is_span(self) -> bool:
        return self.opens != self.closes

    def describe(self) -> str:
        return f"{self.opens.text} → {self.closes.text}" if self.is_span else self.opens.text


def point(when: str | int | date | datetime, timezone: str = "UTC") -> Schedule:
    window = parse_window(when, timezone)
    return Schedule(window, window)


def span(starts: str | int | date | datetime, ends: str | int | date | datetime, timezone: str = "UTC") -> Schedule:
    """A span; ValueError when it ends before it starts."""
    return span_of(parse_window(starts, timezone), parse_window(ends, timezone))


def span_of(opens: Window, closes: Window) -> Schedule:
    """The span from two parsed windows; ValueError when it ends before it starts, or when the end
    window begins before the start window (`2025-06` to `2025`: an end that reaches back past the start)."""
    if closes.end <= opens.start:
        raise ValueError(f"ends {closes.text!r} is before starts {opens.text!r}; a span must end after it starts")
    if closes.start < opens.start:
        raise ValueError(
            f"ends {closes.text!r} begins before starts {opens.text!r}; give an end that begins at or after"
            f" the start, like {opens.text!r} or later"
        )
    return Schedule(opens, closes)


def whole_days(delta: timedelta) -> int:
    """The whole days in `delta`, rounded toward zero: 36 hours is 1 day, minus 36 hours is -1."""
    return int(delta / timedelta(days=1))  # int() rounds towards zero


def utc_text(moment: datetime) -> str:
    """`2028-01-01T00:00:00Z`: an instant in UTC as machines read it (keys, payloads, JSON, logs).
    A naive datetime is taken to be UTC already."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")


def calendar_days_between(old: datetime, new: datetime, old_zone: str, new_zone: str) -> int:
    """Whole calendar days from `old`'s date in `old_zone` to `new`'s date in `new_zone`: a move from
    Q4 to Q1 is 90 days even when a daylight-saving change makes it an hour short of 90 * 24 hours."""
    return (new.astimezone(ZoneInfo(new_zone)).date() - old.astimezone(ZoneInfo(old_zone)).date()).days


def slip_days(old: Schedule, new: Schedule) -> int:
    """How many calendar days the (end) window's last day moved, in the milestone's zone: positive
    when it slipped later, negative when pulled in. An instant's day is its own date."""
    last = timedelta(microseconds=1)
    return calendar_days_between(old.due_at - last, new.due_at - last, old.closes.timezone, new.closes.timezone)


def start_shift_days(old: Schedule, new: Schedule) -> int:
    """How many calendar days the opening of the window moved, in the milestone's zone."""
    return calendar_days_between(old.opens_at, new.opens_at, old.opens.timezone, new.opens.timezone)
