"""Digest schedules: `daily 09:00 Europe/Paris` or `weekly mon 09:00 Europe/Paris` (pure).

A subscription with a digest collects its notices and receives them as one message at that local
time, once per period. `parse_digest` reads the text (never raises: it returns the problem);
`period_end` is the latest digest time at or before an instant, which names the period (the digest
sent for it is unique by subscription and that instant); `digest_message` words a digest for people.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerts.message import Message, message_of
from alerts.quiet import zone_of

DIGEST = "digest"
"""The notice type of a digest."""
EXAMPLE = "daily 09:00 Europe/Paris"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DIGEST = re.compile(r"^\s*(daily|weekly)\s+(?:(\w+)\s+)?(\d{1,2}):(\d{2})(?:\s+(\S+))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class DigestSchedule:
    """`weekday` is None for a daily digest, 0 (Monday) to 6 for a weekly one."""

    at: time
    zone: str = "UTC"
    weekday: int | None = None

    def text(self) -> str:
        when = "daily" if self.weekday is None else f"weekly {WEEKDAYS[self.weekday]}"
        return f"{when} {self.at:%H:%M} {self.zone}"


def parse_digest(text: object) -> DigestSchedule | str:
    """The schedule `text` states, or the problem with it in words for the user. Never raises."""
    if not isinstance(text, str):
        return f"a digest is written like {EXAMPLE!r} or 'weekly mon 09:00 Europe/Paris'"
    found = _DIGEST.match(text)
    if found is None:
        return f"{text!r} is not a digest schedule; write it like {EXAMPLE!r} or 'weekly mon 09:00 Europe/Paris'"
    kind, day, hours, minutes, zone = found.groups()
    weekday = None
    if kind.lower() == "weekly":
        if day is None or day[:3].lower() not in WEEKDAYS:
            return f"{text!r}: a weekly digest names its day, one of {', '.join(WEEKDAYS)}"
        weekday = WEEKDAYS.index(day[:3].lower())
    elif day is not None:
        return f"{text!r}: a daily digest names no day; write it like {EXAMPLE!r}"
    if int(hours) > 23 or int(minutes) > 59:
        return f"{text!r}: a time of day runs from 00:00 to 23:59"
    zone = zone or "UTC"
    if zone_of(zone) is None:
        return f"{text!r}: {zone!r} is not a time zone; use an IANA name such as Europe/Paris"
    return DigestSchedule(time(int(hours), int(minutes)), zone, weekday)


def period_end(schedule: DigestSchedule, now: datetime) -> datetime:
    """The latest digest time at or before `now` (aware UTC)."""
    tz = ZoneInfo(schedule.zone)
    day = now.astimezone(tz).date()
    for back in range(0, 9):
        candidate_day = day - timedelta(days=back)
        if schedule.weekday is not None and candidate_day.weekday() != schedule.weekday:
            continue
        moment = datetime.combine(candidate_day, schedule.at, tz).astimezone(UTC)
        if moment <= now:
            return moment
    raise AssertionError("unreachable: a digest time falls in every eight days")


def digest_message(payloads: Sequence[Any], since: datetime | None, until: datetime, zone: str = "UTC") -> Message:
    """The words of a digest of the notice `payloads`: how many, and each one's headline; the period
    in the schedule's `zone`."""
    headlines = [message_of(p).headline for p in payloads]
    count = len(headlines)
    headline = f"{count} notice{'s' if count != 1 else ''} in your digest"
    lines = [f"- {h}" for h in headlines]
    tz = zone_of(zone) or UTC
    start, end = (since.astimezone(tz) if since else None), until.astimezone(tz)
    # Not "From ...": mail tools quote a line that starts so (">From").
    span = f"Between {_when(start)} and {_when(end)}." if start else f"Until {_when(end)}."
    return Message.of(headline, "\n".join([span, *lines]).strip())


def _when(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%b %Y, %H:%M} {moment.tzname()}" if moment else ""
