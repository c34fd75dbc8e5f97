"""Dates and counts as people write them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline import humanize
from timeline.dates import parse_window, point, span

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("count", "word", "expected"),
    [
        (0, "feed", "0 feeds"),
        (1, "feed", "1 feed"),
        (2, "entry", "2 entries"),
        (1, "entry", "1 entry"),
        (1234, "delivery", "1,234 deliveries"),
        (3, "subscription", "3 subscriptions"),
    ],
)
def test_plural(count: int, word: str, expected: str) -> None:
    assert humanize.plural(count, word) == expected


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2027", "UTC", "2027 (1 Jan – 31 Dec 2027)"),
        ("2027-H1", "UTC", "H1 2027 (1 Jan – 30 Jun 2027)"),
        ("2027-H2", "UTC", "H2 2027 (1 Jul – 31 Dec 2027)"),
        ("2027-Q1", "Asia/Tokyo", "Q1 2027 (1 Jan – 31 Mar 2027)"),
        ("2027-Q2", "UTC", "Q2 2027 (1 Apr – 30 Jun 2027)"),
        ("2027-Q3", "UTC", "Q3 2027 (1 Jul – 30 Sep 2027)"),
        ("2027-Q4", "America/Chicago", "Q4 2027 (1 Oct – 31 Dec 2027)"),
        ("2027-09", "Europe/Paris", "September 2027"),
        ("2027-09-15", "Asia/Tokyo", "15 Sep 2027"),
        ("2027-09-15T10:30+02:00", "Europe/Paris", "15 Sep 2027, 10:30 CEST"),
        ("2027-01-15T10:30Z", "UTC", "15 Jan 2027, 10:30 UTC"),
    ],
)
def test_windows_read_as_people_write_them(text: str, tz: str, expected: str) -> None:
    assert humanize.window(parse_window(text, tz)) == expected


def test_a_span_names_both_ends_and_its_whole_range() -> None:
    assert humanize.schedule(span("2025", "2027")) == "2025 → 2027 (1 Jan 2025 – 31 Dec 2027)"
    assert humanize.schedule(span("2025-Q3", "2025-Q4")) == "Q3 2025 → Q4 2025 (1 Jul – 31 Dec 2025)"
    assert humanize.schedule(point("2027-Q2")) == "Q2 2027 (1 Apr – 30 Jun 2027)"


@pytest.mark.parametrize(
    ("due_at", "now", "tz", "expected"),
    [
        (datetime(2028, 1, 1, tzinfo=UTC), NOW, "UTC", "due 1 Jan 2028, in 394 days"),
        (datetime(2026, 12, 4, tzinfo=UTC), NOW, "UTC", "due 4 Dec 2026, tomorrow"),
        (datetime(2026, 12, 3, 23, 0, tzinfo=UTC), NOW, "UTC", "due today"),
        (datetime(2026, 12, 3, 6, 0, tzinfo=UTC), NOW, "UTC", "due today"),
        (datetime(2026, 1, 1, tzinfo=UTC), NOW, "UTC", "overdue by 336 days"),
        (datetime(2026, 12, 2, tzinfo=UTC), NOW, "UTC", "overdue by 1 day"),
        (NOW, NOW, "UTC", "due today"),  # the instant it falls due
        (datetime(2026, 12, 3, 11, 59, tzinfo=UTC), NOW, "UTC", "due today"),
        # 16:00 UTC is already 01:00 on 4 Dec in Tokyo, while 12:00 UTC is still 3 Dec there
        (datetime(2026, 12, 3, 16, 0, tzinfo=UTC), NOW, "Asia/Tokyo", "due 4 Dec 2026, tomorrow"),
        # 06:00 UTC was 3 Dec in UTC but 2 Dec in Chicago: a day overdue there
        (datetime(2026, 12, 3, 5, 0, tzinfo=UTC), NOW, "America/Chicago", "overdue by 1 day"),
        # 23:00 UTC on 3 Dec is already 4 Dec in Tokyo: tomorrow there, in calendar days
        (
            datetime(2026, 12, 4, 15, 0, tzinfo=UTC),
            datetime(2026, 12, 3, 23, 0, tzinfo=UTC),
            "Asia/Tokyo",
            "due 5 Dec 2026, tomorrow",
        ),
    ],
)
def test_due_in_calendar_days(due_at: datetime, now: datetime, tz: str, expected: str) -> None:
    assert humanize.due(due_at, now, tz) == expected


def test_calendar_days_across_a_dst_change_are_whole_days() -> None:
    q4, q1 = parse_window("2026-Q4", "America/Chicago"), parse_window("2027-Q1", "America/Chicago")
    assert (q1.end - q4.end) != timedelta(days=90)  # an hour of DST makes the instants 89 days 23 h apart
    assert humanize.calendar_days(q4.end, q1.end, "America/Chicago") == 90


@given(st.integers(min_value=-5000, max_value=5000))
def test_in_days_reads_back_the_count(days: int) -> None:
    text = humanize.in_days(days)
    if abs(days) > 1:
        assert str(abs(days)).replace(",", "") in text.replace(",", "")
        assert text.startswith("in ") == (days > 0)


def test_due_defaults_to_utc_days() -> None:
    assert humanize.due(datetime(2026, 12, 4, 0, 30, tzinfo=UTC), NOW) == "due 4 Dec 2026, tomorrow"


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "today"),
        (1, "tomorrow"),
        (-1, "yesterday"),
        (2, "in 2 days"),
        (-2, "2 days ago"),
        (395, "in 395 days"),
        (-336, "336 days ago"),
        (1000, "in 1,000 days"),
        (-1000, "1,000 days ago"),
    ],
)
def test_in_days_exact_words(days: int, expected: str) -> None:
    assert humanize.in_days(days) == expected


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(0), "1 minute"),  # at least a minute
        (timedelta(seconds=-90), "1 minute"),  # a negative length reads as the shortest
        (timedelta(days=-2), "1 minute"),
        (timedelta(seconds=59.9), "1 minute"),
        (timedelta(seconds=60), "1 minute"),
        (timedelta(seconds=119), "1 minute"),
        (timedelta(seconds=120), "2 minutes"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(seconds=3599), "59 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(seconds=7199), "1 hour"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(seconds=86399), "23 hours"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=1, hours=23, minutes=59), "1 day"),
        (timedelta(days=2, hours=23), "2 days"),
        (timedelta(days=1000), "1,000 days"),
    ],
)
def test_duration_in_its_largest_whole_unit(delta: timedelta, expected: str) -> None:
    assert humanize.duration(delta) == expected


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (182, "+182 days"),
        (1, "+1 day"),
        (0, "0 days"),
        (-1, "-1 day"),
        (-30, "-30 days"),
        (1234, "+1,234 days"),
        (-1234, "-1,234 days"),
    ],
)
def test_signed_days_name_the_direction(days: int, expected: str) -> None:
    assert humanize.signed_days(days) == expected


def test_day_of_a_date_and_of_an_instant_in_a_zone() -> None:
    late = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert humanize.day(date(2028, 1, 1)) == "1 Jan 2028"
    assert humanize.day(late) == "31 Dec 2026"
    assert humanize.day(late, "Asia/Tokyo") == "1 Jan 2027"
    assert humanize.day(late, "America/Chicago") == "31 Dec 2026"
    assert humanize.local_date(late) == date(2026, 12, 31)
    assert humanize.local_date(late, "Asia/Tokyo") == date(2027, 1, 1)


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        (datetime(2027, 9, 15, 8, 30, tzinfo=UTC), "UTC", "15 Sep 2027, 08:30 UTC"),
        (datetime(2027, 9, 15, 8, 30, tzinfo=UTC), "Europe/Paris", "15 Sep 2027, 10:30 CEST"),
        # London springs forward at 01:00 UTC: 00:59 GMT, then 02:00 BST
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "Europe/London", "29 Mar 2026, 00:59 GMT"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/London", "29 Mar 2026, 02:00 BST"),
        # 01:30 happens twice when London falls back: the zone's abbreviation tells them apart
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/London", "25 Oct 2026, 01:30 BST"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/London", "25 Oct 2026, 01:30 GMT"),
        # Lord Howe moves by half an hour: 02:00 local becomes 02:30
        (datetime(2026, 10, 3, 15, 29, tzinfo=UTC), "Australia/Lord_Howe", "4 Oct 2026, 01:59 +1030"),
        (datetime(2026, 10, 3, 15, 30, tzinfo=UTC), "Australia/Lord_Howe", "4 Oct 2026, 02:30 +11"),
    ],
)
def test_instant_in_a_zone_with_its_abbreviation(moment: datetime, tz: str, expected: str) -> None:
    assert humanize.instant(moment, tz) == expected


def test_an_unknown_zone_reads_as_utc() -> None:
    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    for name in ("Nowhere/Atlantis", "", "../etc/passwd", "utc"):
        assert humanize.instant(moment, name) == "31 Dec 2026, 23:30 UTC"
        assert humanize.day(moment, name) == "31 Dec 2026"
    assert humanize.instant(moment) == "31 Dec 2026, 23:30 UTC"


def test_calendar_days_count_backwards_and_by_the_zone() -> None:
    evening = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    morning = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    assert humanize.calendar_days(evening, morning) == 1
    assert humanize.calendar_days(morning, evening) == -1
    assert humanize.calendar_days(evening, morning, "Asia/Tokyo") == 0  # both 4 Dec there
    assert humanize.calendar_days(evening, morning, "America/Chicago") == 0  # both 3 Dec there


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        # midnight does not exist on these days (clocks jump from 00:00 to 01:00)
        ("2026-03-08", "America/Havana", "8 Mar 2026"),
        ("2026-03", "America/Havana", "March 2026"),
        ("2026-Q1", "America/Havana", "Q1 2026 (1 Jan – 31 Mar 2026)"),
        ("2026-09-06", "America/Santiago", "6 Sep 2026"),
        ("2026-H2", "America/Santiago", "H2 2026 (1 Jul – 31 Dec 2026)"),
        ("2026-03-29", "Asia/Beirut", "29 Mar 2026"),
        # midnight happens twice (Santiago falls back from 24:00 to 23:00)
        ("2026-04-05", "America/Santiago", "5 Apr 2026"),
        ("2026-04", "America/Santiago", "April 2026"),
        # Lord Howe's half-hour shift
        ("2026-10-04", "Australia/Lord_Howe", "4 Oct 2026"),
        ("2026-Q4", "Australia/Lord_Howe", "Q4 2026 (1 Oct – 31 Dec 2026)"),
        ("2026-10-04T02:30", "Australia/Lord_Howe", "4 Oct 2026, 02:30 +11"),
    ],
)
def test_windows_in_zones_with_a_daylight_saving_change_at_midnight(text: str, tz: str, expected: str) -> None:
    assert humanize.window(parse_window(text, tz)) == expected


def test_the_last_day_before_a_midnight_that_does_not_exist() -> None:
    # the window of 7 Mar 2026 in Havana ends at the start of 8 Mar, 01:00 local
    assert humanize.schedule(span("2026-02", "2026-03-07", "America/Havana")) == (
        "February 2026 → 7 Mar 2026 (1 Feb – 7 Mar 2026)"
    )
    assert humanize.schedule(span("2026-08-01", "2026-09-05", "America/Santiago")) == (
        "1 Aug 2026 → 5 Sep 2026 (1 Aug – 5 Sep 2026)"
    )


def test_a_span_reads_its_first_day_in_its_own_zone() -> None:
    # 1 Jan 2025 in Tokyo starts at 15:00 UTC on 31 Dec 2024
    assert humanize.schedule(span("2025", "2027", "Asia/Tokyo")) == "2025 → 2027 (1 Jan 2025 – 31 Dec 2027)"
    assert humanize.schedule(span("2025-Q3", "2026-H1", "America/Chicago")) == (
        "Q3 2025 → H1 2026 (1 Jul 2025 – 30 Jun 2026)"
    )


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("2027", "UTC", "2027"),
        ("2027-H1", "Asia/Tokyo", "H1 2027"),
        ("2027-Q2", "UTC", "Q2 2027"),
        ("2027-09", "Europe/Paris", "September 2027"),
        ("2027-09-15", "UTC", "15 Sep 2027"),
        ("2027-09-15T10:30+02:00", "Europe/Paris", "15 Sep 2027, 10:30 CEST"),
    ],
)
def test_short_window_drops_the_range(text: str, tz: str, expected: str) -> None:
    assert humanize.short_window(parse_window(text, tz)) == expected
