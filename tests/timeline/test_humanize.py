"""Dates and counts as people write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
        ("2027-H2", "UTC", "H2 2027 (1 Jul – 31 Dec 2027)"),
        ("2027-Q2", "UTC", "Q2 2027 (1 Apr – 30 Jun 2027)"),
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
