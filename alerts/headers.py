"""HTTP header values from outside, read by functions that cannot raise.

A server or a webhook receiver may answer anything: `Retry-After: ²` (a Unicode digit `int()`
refuses), `Cache-Control: max-age=99999999999999999999` (a wait no date can be added to), a date in
the year 0. Each reader here returns a usable value or None ("unusable"), never an exception, and
every wait it returns is clamped to `MAX_WAIT`, so adding it to any instant of this century is safe.
Callers apply their own, tighter bounds (a feed never waits more than a day, a delivery 24 hours).

Both the feed poller and the outbox read Retry-After through `retry_after`: one rule, in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_WAIT = timedelta(days=3650)
"""The longest wait any reader here returns; longer asks are clamped to it."""
_MAX_SECONDS = int(MAX_WAIT.total_seconds())
_MAX_DIGITS = len(str(_MAX_SECONDS))
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_MAX_AGE = re.compile(r"(?:^|[,\s])max-age[ \t]*=[ \t]*\"?([0-9]+)", re.ASCII | re.IGNORECASE)
_LONGEST_DATE = 100
"""An HTTP date is about 29 characters; far longer text is not one (and is not worth parsing)."""


def delay_seconds(text: str | None) -> timedelta | None:
    """A `delay-seconds` value (ASCII digits only, RFC 9110 10.2.3) as a wait, clamped to
    `MAX_WAIT`; None for anything else (`-5`, `1.5`, `²`, empty)."""
    if text is None:
        return None
    digits = text.strip(" \t")
    if not _DIGITS.fullmatch(digits):
        return None
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        return MAX_WAIT
    return timedelta(seconds=min(int(digits), _MAX_SECONDS))


def http_date(text: str | None) -> datetime | None:
    """An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, or the obsolete forms) as an aware UTC
    instant; None when absent or unreadable. A date without a zone is GMT, as HTTP dates are."""
    if not text or len(text) > _LONGEST_DATE:
        return None
    try:
        moment = parsedate_to_datetime(text.strip())
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except Exception:  # the email parser raises several types on odd input, and may gain more
        return None


def _until(moment: datetime | None, now: datetime) -> timedelta | None:
    if moment is None:
        return None
    return min(max(moment - now, timedelta(0)), MAX_WAIT)


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """`Retry-After` as a wait from `now`: delay-seconds or an HTTP date (a past date is no wait),
    within [0, MAX_WAIT]; None when absent or unreadable."""
    if value is None:
        return None
    wait = delay_seconds(value)
    return wait if wait is not None else _until(http_date(value), now)


def max_age(cache_control: str | None) -> timedelta | None:
    """`max-age` of a Cache-Control value, clamped to `MAX_WAIT`; None without one. (`s-maxage` is for
    shared caches; a feed reader is a private one.)"""
    if not cache_control:
        return None
    found = _MAX_AGE.search(cache_control)
    return delay_seconds(found[1]) if found else None


def freshness(headers: Mapping[str, str], now: datetime) -> timedelta | None:
    """How long a response says it stays fresh: Cache-Control max-age, else `Expires` minus `Date`
    (or minus `now` without a usable Date); None when it says nothing usable. `headers` has
    lower-case names."""
    age = max_age(headers.get("cache-control"))
    if age is not None:
        return age
    expires = http_date(headers.get("expires"))
    if expires is None:
        return None
    return _until(expires, http_date(headers.get("date")) or now)
