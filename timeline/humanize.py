"""Dates, windows and counts as people write them: the one place every human surface gets them from
(the notices' wording, the page, the Atom feed, the CLI).

    window    Q2 2027 (1 Apr – 30 Jun 2027)     2027 (1 Jan – 31 Dec 2027)     15 Sep 2027
    schedule  2025 → 2027 (1 Jan 2025 – 31 Dec 2027)
    due       due 1 Jan 2028, in 395 days       due today       overdue by 336 days
    counts    1 feed, 2 feeds, 1 entry, 3 entries

Days are calendar days in the milestone's own time zone: from 23:00 on 31 December to 01:00 on
1 January is one day, and a slip from Q4 to Q1 across a daylight-saving change is 90 days, not 89.
Pure: no clock (`now` is an argument), no I/O.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from timeline.dates import Precision, Schedule, Window

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_IRREGULAR = {"entry": "entries", "delivery": "deliveries", "this": "these", "is": "are", "was": "were"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 feed`, `2 feeds`, `0 entries`: the count and the word agreeing with it."""
    return f"{count:,} {word if count == 1 else (many or _IRREGULAR.get(word) or word + 's')}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def local_date(moment: datetime, timezone: str = "UTC") -> date:
    """The calendar date of an aware instant in `timezone`."""
    return moment.astimezone(_zone(timezone)).date()


def day(value: date | datetime, timezone: str = "UTC") -> str:
    """`1 Jan 2028`: a date, or an instant's date in `timezone`."""
    d = local_date(value, timezone) if isinstance(value, datetime) else value
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def instant(moment: datetime, timezone: str = "UTC") -> str:
    """`15 Sep 2027, 10:30 UTC` / `15 Sep 2027, 10:30 CEST`: an instant in `timezone`."""
    local = moment.astimezone(_zone(timezone))
    return f"{day(local.date())}, {local:%H:%M} {local.tzname() or timezone}"


def calendar_days(start: datetime, end: datetime, timezone: str = "UTC") -> int:
    """Whole calendar days from `start` to `end` in `timezone` (negative when `end` is earlier)."""
    return (local_date(end, timezone) - local_date(start, timezone)).days


def _range(first: date, last: date) -> str:
    """`1 Apr – 30 Jun 2027`, or `1 Jan 2025 – 31 Dec 2027` across years."""
    if first.year == last.year:
        return f"{first.day} {_MONTHS[first.month - 1]} – {day(last)}"
    return f"{day(first)} – {day(last)}"


def _last_day(w: Window) -> date:
    """The last calendar day of a date window (its end is the next day's midnight)."""
    return local_date(w.end - timedelta(microseconds=1), w.timezone)


def window(w: Window) -> str:
    """A window as a person writes it: `2027 (1 Jan – 31 Dec 2027)`, `H2 2027 (1 Jul – 31 Dec 2027)`,
    `Q2 2027 (1 Apr – 30 Jun 2027)`, `September 2027`, `15 Sep 2027`, `15 Sep 2027, 10:30 CEST`."""
    first = local_date(w.start, w.timezone)
    if w.precision is Precision.YEAR:
        return f"{first.year} ({_range(first, _last_day(w))})"
    if w.precision is Precision.HALF:
        return f"H{1 if first.month <= 6 else 2} {first.year} ({_range(first, _last_day(w))})"
    if w.precision is Precision.QUARTER:
        return f"Q{(first.month - 1) // 3 + 1} {first.year} ({_range(first, _last_day(w))})"
    if w.precision is Precision.MONTH:
        return f"{_MONTH_NAMES[first.month - 1]} {first.year}"
    if w.precision is Precision.DAY:
        return day(first)
    return instant(w.start, w.timezone)


def short_window(w: Window) -> str:
    """A window in the fewest words: `2027`, `H2 2027`, `Q2 2027`, `September 2027`, `15 Sep 2027`."""
    text = window(w)
    return text.split(" (", 1)[0]


def schedule(s: Schedule) -> str:
    """A point's window, or a span as `2025 → 2027 (1 Jan 2025 – 31 Dec 2027)`."""
    if not s.is_span:
        return window(s.opens)
    first = local_date(s.opens.start, s.opens.timezone)
    return f"{short_window(s.opens)} → {short_window(s.closes)} ({_range(first, _last_day(s.closes))})"


def in_days(days: int) -> str:
    """`today`, `tomorrow`, `in 395 days`, `yesterday`, `336 days ago`."""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {plural(days, 'day')}" if days > 0 else f"{plural(-days, 'day')} ago"


def due(due_at: datetime, now: datetime, timezone: str = "UTC") -> str:
    """`due 1 Jan 2028, in 395 days`, `due today`, or `overdue by 336 days`: calendar days in the
    milestone's zone between `now` and the instant it is due (the end of its window)."""
    days = calendar_days(now, due_at, timezone)
    if now >= due_at:
        return "due today" if days == 0 else f"overdue by {plural(-days, 'day')}"
    return "due today" if days == 0 else f"due {day(due_at, timezone)}, {in_days(days)}"


def duration(delta: timedelta) -> str:
    """`45 minutes`, `3 hours`, `2 days`: a length of time in its largest whole unit (at least a minute)."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds >= 86400:
        return plural(seconds // 86400, "day")
    if seconds >= 3600:
        return plural(seconds // 3600, "hour")
    return plural(max(seconds // 60, 1), "minute")


def signed_days(days: int) -> str:
    """`+182 days`, `-30 days`, `0 days`: a move in days with its direction."""
    sign = "+" if days > 0 else "-" if days < 0 else ""
    return sign + plural(abs(days), "day")

