"""Digest schedules (pure): parsing never raises, the period end is the latest digest time, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.digests import DigestSchedule, digest_message, parse_digest, period_end

PARIS = ZoneInfo("Europe/Paris")
DAILY = DigestSchedule(time(9), "Europe/Paris")
WEEKLY = DigestSchedule(time(9), "Europe/Paris", 0)
instants = st.datetimes(min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 30), timezones=st.just(UTC))


def test_reads_the_written_forms() -> None:
    assert parse_digest("daily 09:00 Europe/Paris") == DAILY
    assert parse_digest("weekly mon 09:00 Europe/Paris") == WEEKLY
    assert parse_digest("Weekly Monday 9:00 Europe/Paris") == WEEKLY
    assert parse_digest("daily 18:30") == DigestSchedule(time(18, 30), "UTC")
    assert DAILY.text() == "daily 09:00 Europe/Paris" and WEEKLY.text() == "weekly mon 09:00 Europe/Paris"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("hourly 09:00", "is not a digest schedule"),
        ("weekly 09:00 Europe/Paris", "names its day"),
        ("weekly someday 09:00", "names its day"),
        ("daily mon 09:00", "names no day"),
        ("daily 24:00", "00:00 to 23:59"),
        ("daily 09:00 Europe/Atlantis", "is not a time zone"),
    ],
)
def test_refuses_what_is_not_a_schedule_saying_why(text: str, says: str) -> None:
    problem = parse_digest(text)
    assert isinstance(problem, str) and says in problem


@given(st.one_of(st.text(), st.none(), st.integers()))
def test_parsing_never_raises(value: object) -> None:
    assert isinstance(parse_digest(value), DigestSchedule | str)


def test_the_period_ends_at_nine_local_on_both_sides_of_a_clock_change() -> None:
    assert period_end(DAILY, datetime(2026, 3, 29, 7, 0, tzinfo=UTC)) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert period_end(DAILY, datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert period_end(WEEKLY, datetime(2026, 6, 10, 12, 0, tzinfo=UTC)) == datetime(2026, 6, 8, 7, 0, tzinfo=UTC)


@given(st.sampled_from([DAILY, WEEKLY, DigestSchedule(time(0, 30), "America/New_York")]), instants)
def test_the_period_end_is_the_latest_digest_time_not_after_now(schedule: DigestSchedule, now: datetime) -> None:
    end = period_end(schedule, now)
    assert end <= now < end + timedelta(days=8)
    local = end.astimezone(ZoneInfo(schedule.zone))
    assert (local.hour, local.minute) == (schedule.at.hour, schedule.at.minute)
    if schedule.weekday is not None:
        assert local.weekday() == schedule.weekday
    assert period_end(schedule, end) == end
    assert period_end(schedule, end - timedelta(microseconds=1)) < end


def test_a_digest_says_how_many_and_lists_each_headline() -> None:
    payloads = [
        {"type": "milestone.due", "data": {"message": {"headline": "Google Iowa is due"}}},
        {"type": "feed.item_matched", "data": {"summary": "x"}},
    ]
    since, until = datetime(2026, 6, 9, 7, tzinfo=UTC), datetime(2026, 6, 10, 7, tzinfo=UTC)
    message = digest_message(payloads, since, until, "Europe/Paris")
    assert message.headline == "2 notices in your digest"
    assert "- Google Iowa is due\n- Feed item matched" in message.text
    assert message.text.startswith("Between 9 Jun 2026, 09:00 CEST and 10 Jun 2026, 09:00 CEST.")
