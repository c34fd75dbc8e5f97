"""Header values from outside: every reader returns a bounded value or None, never raises."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alerts.config import DEFAULT_SCHEDULE
from alerts.headers import MAX_WAIT, delay_seconds, freshness, http_date, max_age, retry_after
from alerts.policy import AttemptResult, decide

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOSTILE = [
    "99999999999999999999",  # overflows timedelta (H1)
    "9" * 5000,  # more digits than int() accepts
    "²",  # '²'.isdigit() is true, int('²') raises (H2)
    "٣",  # an Arabic-Indic digit: int() reads it, HTTP does not
    "-5",
    "1.5",
    " 120 ",
    "Sun, 06 Nov 0000 08:49:37 GMT",
    "Sun, 06 Nov 99999 08:49:37 GMT",
    "Mon, 32 Foo 2026 25:61:61 GMT",
    "\x00",
    "\ud800",
    "",
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        ("0", timedelta(0)),
        ("Sun, 01 Mar 2026 13:30:00 GMT", timedelta(minutes=90)),
        ("Sun, 01 Mar 2026 11:00:00 GMT", timedelta(0)),  # past: no wait
        ("Sunday, 01-Mar-26 13:30:00 GMT", timedelta(minutes=90)),  # RFC 850, obsolete but allowed
        ("Sun, 01 Mar 2026 13:30:00 -0000", timedelta(minutes=90)),  # no zone: GMT
        ("99999999999999999999", MAX_WAIT),
        ("9" * 5000, MAX_WAIT),
        ("²", None),
        ("٣", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, expected: timedelta | None) -> None:
    assert retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=600", timedelta(seconds=600)),
        ("public, s-maxage=60, max-age=600", timedelta(seconds=600)),  # s-maxage is for shared caches
        ('max-age="120"', timedelta(seconds=120)),
        ("no-cache, MAX-AGE = 30", timedelta(seconds=30)),
        ("max-age=99999999999999999999", MAX_WAIT),
        ("max-age=²", None),
        ("max-age=abc", None),
        ("no-store", None),
        (None, None),
    ],
)
def test_max_age(value: str | None, expected: timedelta | None) -> None:
    assert max_age(value) == expected


def test_freshness_is_max_age_else_expires_minus_date() -> None:
    expires = format_datetime(NOW + timedelta(hours=2), usegmt=True)
    date = format_datetime(NOW + timedelta(hours=1), usegmt=True)
    assert freshness({"cache-control": "max-age=60", "expires": expires}, NOW) == timedelta(seconds=60)
    assert freshness({"expires": expires, "date": date}, NOW) == timedelta(hours=1)
    assert freshness({"expires": expires, "date": "garbage"}, NOW) == timedelta(hours=2)
    assert freshness({"expires": format_datetime(NOW - timedelta(hours=1), usegmt=True)}, NOW) == timedelta(0)
    assert freshness({"cache-control": "max-age=abc", "expires": "yesterday"}, NOW) is None
    assert freshness({}, NOW) is None


def test_http_dates_come_back_aware_utc() -> None:
    assert http_date("Sun, 01 Mar 2026 14:00:00 +0200") == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert http_date("x" * 1000) is None


def test_delay_seconds_is_ascii_digits_only() -> None:
    assert delay_seconds("\t7 ") == timedelta(seconds=7)
    assert delay_seconds("007") == timedelta(seconds=7)
    assert delay_seconds("0" * 50 + "7") == timedelta(seconds=7)  # leading zeros are not size
    assert delay_seconds("7 7") is None


@given(st.text())
@example("²")
@example("99999999999999999999")
def test_no_header_value_raises_and_every_wait_is_bounded(value: str) -> None:
    for wait in (retry_after(value, NOW), max_age(value), max_age(f"max-age={value}"), delay_seconds(value)):
        assert wait is None or timedelta(0) <= wait <= MAX_WAIT
    found = freshness({"cache-control": value, "expires": value, "date": value}, NOW)
    assert found is None or timedelta(0) <= found <= MAX_WAIT
    moment = http_date(value)
    assert moment is None or moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_retry_after_still_gives_a_retry_on_schedule(value: str) -> None:
    """The outbox's decision after a 503 carrying any Retry-After is a pending retry in [step, 24 h]."""
    decision = decide(AttemptResult(503, 1.0, retry_after=value), 1, NOW, DEFAULT_SCHEDULE, random.Random(0))
    assert decision.status == "pending" and decision.next_attempt_at is not None
    wait = decision.next_attempt_at - NOW
    assert DEFAULT_SCHEDULE[0] * 0.8 <= wait <= timedelta(hours=24)


def test_delay_seconds_strips_only_spaces_and_tabs() -> None:
    assert delay_seconds(" \t30\t ") == timedelta(seconds=30)
    assert delay_seconds("30\n") is None, "a line break is not HTTP white space inside a field value"
    assert delay_seconds("X30X") is None


def test_the_longest_number_still_read_as_a_number_is_clamped_exactly() -> None:
    """A value with as many digits as the largest wait is compared, not refused: under it, itself."""
    largest = int(MAX_WAIT.total_seconds())
    as_many_digits = "1" + "0" * (len(str(largest)) - 1)
    assert delay_seconds(as_many_digits) == timedelta(seconds=min(int(as_many_digits), largest))
    assert delay_seconds("9" * (len(str(largest)) + 1)) == MAX_WAIT


def test_an_http_date_of_the_longest_length_accepted_is_read() -> None:
    text = "Sun, 06 Nov 1994 08:49:37 GMT"
    padded = text + " " * (100 - len(text))
    assert len(padded) == 100
    assert http_date(padded) == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert http_date(padded + " ") is None


def test_http_dates_are_utc_whatever_the_machines_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        aware = http_date("Sun, 06 Nov 1994 08:49:37 +0200")
        unzoned = http_date("Sun, 06 Nov 1994 08:49:37 -0000")
    finally:
        monkeypatch.undo()
        time.tzset()
    assert aware is not None and aware.tzinfo is UTC and aware == datetime(1994, 11, 6, 6, 49, 37, tzinfo=UTC)
    assert unzoned is not None and unzoned.tzinfo is UTC and unzoned == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
