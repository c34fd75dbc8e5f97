"""Fuzzy dates as windows: pure, no I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline.dates import HINT, Precision, parse_window, slip_days, span, utc_text, whole_days

ZONES = ["UTC", "Europe/Berlin", "America/Chicago", "Australia/Lord_Howe", "America/Havana", "Asia/Kolkata"]
years = st.integers(min_value=1971, max_value=2200)
zones = st.sampled_from(ZONES)
days = st.dates(min_value=date(1971, 1, 1), max_value=date(2200, 12, 31))


def _texts(day: date) -> dict[Precision, str]:
    return {
        Precision.YEAR: f"{day.year:04d}",
        Precision.HALF: f"{day.year:04d}-H{1 if day.month <= 6 else 2}",
        Precision.QUARTER: f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}",
        Precision.MONTH: f"{day.year:04d}-{day.month:02d}",
        Precision.DAY: day.isoformat(),
    }


def test_the_forms_the_product_promises() -> None:
    assert parse_window("2025").start == datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_window("2025").end == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_window("2025-H2").start == datetime(2025, 7, 1, tzinfo=UTC)
    assert parse_window("2025-Q3").end == datetime(2025, 10, 1, tzinfo=UTC)
    assert parse_window("2025-09").end == datetime(2025, 10, 1, tzinfo=UTC)
    assert parse_window("2025-09-15").end == datetime(2025, 9, 16, tzinfo=UTC)
    instant = parse_window("2025-09-15T10:30+02:00")
    assert instant.start == datetime(2025, 9, 15, 8, 30, tzinfo=UTC)
    assert instant.precision is Precision.MINUTE
    assert parse_window("2025-09-15T10:30:05Z").precision is Precision.SECOND
    assert parse_window(2025) == parse_window("2025")


def test_construction_runs_through_2027_is_due_at_the_end_of_2027() -> None:
    schedule = span("2025", "2027")
    assert schedule.opens_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert schedule.closes.start == datetime(2027, 1, 1, tzinfo=UTC)
    assert schedule.due_at == datetime(2028, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2025-13", "2025-02-30", "2025-Q5", "2025-H3", "next year", "", "2025-9", "25"])
def test_bad_dates_say_what_to_write(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date") as caught:
        parse_window(text)
    assert HINT in str(caught.value)


def test_a_span_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="ends '2024' is before starts '2025'"):
        span("2025", "2024")


def test_unknown_zone_is_named() -> None:
    with pytest.raises(ValueError, match="'Mars/Olympus' is not a known time zone"):
        parse_window("2025", "Mars/Olympus")


def test_berlin_daylight_saving_days() -> None:
    spring = parse_window("2026-03-29", "Europe/Berlin")
    autumn = parse_window("2026-10-25", "Europe/Berlin")
    assert spring.end - spring.start == timedelta(hours=23)
    assert autumn.end - autumn.start == timedelta(hours=25)
    assert spring.start == datetime(2026, 3, 28, 23, tzinfo=UTC)  # local midnight, CET
    assert autumn.end == datetime(2026, 10, 25, 23, tzinfo=UTC)  # next local midnight, CET again


def test_slip_days_signs() -> None:
    assert slip_days(span("2025", "2027"), span("2025", "2027-H2")) == 0
    assert slip_days(span("2025", "2027-H1"), span("2025", "2027")) == 184
    assert slip_days(span("2025", "2027"), span("2025", "2027-H1")) == -184


@given(days, zones)
def test_windows_are_non_empty_and_utc(day: date, tz: str) -> None:
    for text in _texts(day).values():
        window = parse_window(text, tz)
        assert window.start < window.end
        assert window.start.utcoffset() == timedelta(0)


@given(days, zones)
def test_finer_windows_nest_in_coarser_ones(day: date, tz: str) -> None:
    windows = [parse_window(text, tz) for text in _texts(day).values()]
    for coarse, fine in itertools.pairwise(windows):
        assert coarse.start <= fine.start < fine.end <= coarse.end


@given(days, zones)
def test_consecutive_days_and_months_are_contiguous(day: date, tz: str) -> None:
    today = parse_window(day.isoformat(), tz)
    if day < date(2200, 12, 31):
        assert parse_window((day + timedelta(days=1)).isoformat(), tz).start == today.end
    month = parse_window(f"{day.year:04d}-{day.month:02d}", tz)
    following = f"{day.year + day.month // 12:04d}-{day.month % 12 + 1:02d}"
    assert parse_window(following, tz).start == month.end


@given(years, zones)
def test_halves_quarters_and_years_tile_the_year(year: int, tz: str) -> None:
    whole = parse_window(str(year), tz)
    for parts in (["H1", "H2"], ["Q1", "Q2", "Q3", "Q4"]):
        windows = [parse_window(f"{year}-{p}", tz) for p in parts]
        assert windows[0].start == whole.start
        assert windows[-1].end == whole.end
        for before, after in itertools.pairwise(windows):
            assert before.end == after.start
    assert parse_window(str(year + 1), tz).start == whole.end


@given(days, zones, st.sampled_from(list(Precision)[:5]))
def test_text_round_trips(day: date, tz: str, precision: Precision) -> None:
    window = parse_window(_texts(day)[precision], tz)
    assert parse_window(window.text, tz) == window


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1)), st.integers(-720, 840))
def test_instants_round_trip(moment: datetime, offset_minutes: int) -> None:
    offset = timedelta(minutes=offset_minutes - offset_minutes % 15)
    sign = "+" if offset >= timedelta(0) else "-"
    hours, minutes = divmod(abs(int(offset.total_seconds())) // 60, 60)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}{sign}{hours:02d}:{minutes:02d}"
    window = parse_window(text)
    assert window.precision is Precision.SECOND
    assert window.end - window.start == timedelta(seconds=1)
    assert parse_window(window.text) == window


@pytest.mark.parametrize("text", ["0001", "1899-12", "3000", "9999-12-31"])
def test_years_out_of_range_are_refused_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="out of range; years 1900 to 2999 are accepted"):
        parse_window(text)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(hours=23, minutes=59), 0),
        (timedelta(days=1), 1),
        (timedelta(hours=36), 1),
        (timedelta(hours=-36), -1),
        (timedelta(hours=-23), 0),
        (timedelta(days=-2), -2),
    ],
)
def test_whole_days_round_toward_zero(delta: timedelta, expected: int) -> None:
    assert whole_days(delta) == expected


@given(st.integers(min_value=-(10**11), max_value=10**11))
def test_whole_days_is_symmetric_around_zero(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert whole_days(-delta) == -whole_days(delta)
    assert abs(whole_days(delta)) * 86400 <= abs(seconds) < (abs(whole_days(delta)) + 1) * 86400


def test_utc_text_writes_any_zone_as_z() -> None:
    berlin = datetime(2027, 7, 1, 2, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert utc_text(berlin) == "2027-07-01T00:00:00Z"
    assert utc_text(datetime(2028, 1, 1, 1, 0, tzinfo=UTC) + timedelta(hours=-1)) == "2028-01-01T00:00:00Z"
    assert utc_text(datetime(2028, 1, 1, 12, 30, 5, 250000, tzinfo=UTC)) == "2028-01-01T12:30:05.250000Z"
    assert utc_text(datetime(2028, 1, 1)) == "2028-01-01T00:00:00Z"
