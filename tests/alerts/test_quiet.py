"""Quiet hours: parsing (never raises) and moving a due time out of the window, across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.quiet import QuietHours, parse_quiet, release_at

PARIS = ZoneInfo("Europe/Paris")
NIGHT = QuietHours(time(22, 0), time(7, 0), "Europe/Paris")
LUNCH = QuietHours(time(12, 0), time(14, 0), "Europe/Paris")
# Around both 2026 changes in Paris (29 March, 25 October), and ordinary days.
instants = st.datetimes(min_value=datetime(2026, 3, 20), max_value=datetime(2026, 11, 5), timezones=st.just(UTC))
windows = st.builds(
    QuietHours,
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.sampled_from(["Europe/Paris", "America/New_York", "UTC", "Australia/Lord_Howe"]),
).filter(lambda q: q.start != q.end)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def test_reads_the_written_form() -> None:
    assert parse_quiet("22:00-07:00 Europe/Paris") == NIGHT
    assert parse_quiet(" 9:30 - 17:45 ") == QuietHours(time(9, 30), time(17, 45), "UTC")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("22:00-07:00 Mars/Olympus", "'Mars/Olympus' is not a time zone"),
        ("25:00-07:00 Europe/Paris", "runs from 00:00 to 23:59"),
        ("22:00-22:00", "start and end at the same time"),
        ("at night", "write them like '22:00-07:00 Europe/Paris'"),
        ("22:00-07:00 ../../etc/passwd", "is not a time zone"),
    ],
)
def test_refuses_what_is_not_quiet_hours_saying_why(text: str, says: str) -> None:
    problem = parse_quiet(text)
    assert isinstance(problem, str)
    assert says in problem


@given(st.one_of(st.text(), st.integers(), st.none()))
def test_parsing_never_raises(value: object) -> None:
    assert isinstance(parse_quiet(value), QuietHours | str)


def test_a_night_notice_waits_for_the_morning() -> None:
    assert release_at(NIGHT, paris(2026, 6, 10, 23, 30)) == paris(2026, 6, 11, 7, 0)
    assert release_at(NIGHT, paris(2026, 6, 11, 6, 59)) == paris(2026, 6, 11, 7, 0)
    assert release_at(NIGHT, paris(2026, 6, 11, 7, 0)) == paris(2026, 6, 11, 7, 0)
    assert release_at(NIGHT, paris(2026, 6, 10, 21, 59)) == paris(2026, 6, 10, 21, 59)
    assert release_at(LUNCH, paris(2026, 6, 10, 13, 0)) == paris(2026, 6, 10, 14, 0)


def test_the_morning_is_local_on_both_sides_of_a_clock_change() -> None:
    # The night of 28-29 March 2026 is an hour shorter in Paris: 07:00 is 05:00 UTC after it.
    assert release_at(NIGHT, paris(2026, 3, 28, 23, 0)) == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    # The night of 24-25 October is an hour longer: 07:00 is 06:00 UTC after it.
    assert release_at(NIGHT, paris(2026, 10, 24, 23, 0)) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)


@given(windows, instants)
def test_a_release_is_never_early_never_quiet_and_at_most_a_day_later(quiet: QuietHours, due: datetime) -> None:
    released = release_at(quiet, due)
    assert released >= due
    assert release_at(quiet, released) == released
    assert released - due <= timedelta(hours=26)


@given(windows, instants, instants)
def test_the_order_of_due_times_is_kept(quiet: QuietHours, first: datetime, second: datetime) -> None:
    first, second = sorted((first, second))
    assert release_at(quiet, first) <= release_at(quiet, second)


@given(instants)
def test_outside_the_night_nothing_moves_and_inside_it_goes_at_seven(due: datetime) -> None:
    local = due.astimezone(PARIS)
    released = release_at(NIGHT, due).astimezone(PARIS)
    if time(7) <= local.time() < time(22):
        assert released == local
    else:
        assert (released.hour, released.minute) == (7, 0)
        assert released.date() == (local.date() if local.hour < 7 else local.date() + timedelta(days=1))
