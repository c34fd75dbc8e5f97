"""Fuzzy dates as windows: pure, no I/O."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from timeline.dates import (
    HINT,
    Precision,
    Schedule,
    Window,
    parse_window,
    point,
    slip_days,
    span,
    start_shift_days,
    utc_text,
    whole_days,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/Chicago",
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
    "Asia/Beirut",
    "Asia/Kolkata",
]
# Days whose local midnight the clocks jump over (checked with zoneinfo: the day starts at 01:00),
# days whose midnight happens twice, and Lord Howe's half-hour shifts.
MIDNIGHT_GAPS = [
    (date(2026, 3, 8), "America/Havana", datetime(2026, 3, 8, 5, tzinfo=UTC)),
    (date(2025, 3, 9), "America/Havana", datetime(2025, 3, 9, 5, tzinfo=UTC)),
    (date(2026, 9, 6), "America/Santiago", datetime(2026, 9, 6, 4, tzinfo=UTC)),
    (date(2026, 3, 29), "Asia/Beirut", datetime(2026, 3, 28, 22, tzinfo=UTC)),
    (date(2026, 4, 24), "Africa/Cairo", datetime(2026, 4, 23, 22, tzinfo=UTC)),
]
years = st.integers(min_value=1971, max_value=2200)
zones = st.sampled_from(ZONES)
days = st.dates(min_value=date(1971, 1, 1), max_value=date(2200, 12, 31))


def _gap_examples(test):  # type: ignore[no-untyped-def]
    """The hypothesis tests below always try the days whose midnight does not exist."""
    for day, tz, _ in MIDNIGHT_GAPS:
        test = example(day, tz)(test)
    return example(date(2026, 11, 1), "America/Havana")(example(date(2026, 10, 4), "Australia/Lord_Howe")(test))


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


@_gap_examples
@given(days, zones)
def test_windows_are_non_empty_and_utc(day: date, tz: str) -> None:
    for text in _texts(day).values():
        window = parse_window(text, tz)
        assert window.start < window.end
        assert window.start.utcoffset() == timedelta(0)


@_gap_examples
@given(days, zones)
def test_finer_windows_nest_in_coarser_ones(day: date, tz: str) -> None:
    windows = [parse_window(text, tz) for text in _texts(day).values()]
    for coarse, fine in itertools.pairwise(windows):
        assert coarse.start <= fine.start < fine.end <= coarse.end


@_gap_examples
@given(days, zones)
def test_a_day_starts_at_its_first_instant(day: date, tz: str) -> None:
    """The window of a day starts at the first instant whose local date is that day: local midnight,
    or the end of the gap when the clocks jump over midnight; the second before is the day before."""
    window = parse_window(day.isoformat(), tz)
    assert window.local_start.date() == day
    assert (window.start - timedelta(seconds=1)).astimezone(ZoneInfo(tz)).date() == day - timedelta(days=1)
    assert window.local_end.date() == day + timedelta(days=1)
    assert timedelta(hours=22) <= window.end - window.start <= timedelta(hours=26)


@_gap_examples
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


@pytest.mark.parametrize(("day", "tz", "start"), MIDNIGHT_GAPS)
def test_a_midnight_the_clocks_jump_over_starts_the_day_at_the_end_of_the_gap(
    day: date, tz: str, start: datetime
) -> None:
    window = parse_window(day.isoformat(), tz)
    assert window.start == start
    assert window.local_start.replace(tzinfo=None) == datetime(day.year, day.month, day.day, 1)
    assert window.end - window.start == timedelta(hours=23)
    before = parse_window((day - timedelta(days=1)).isoformat(), tz)
    assert before.end == start
    assert before.end - before.start == timedelta(hours=24)


def test_havana_2026_03_08_starts_at_01_00_local() -> None:
    """The day the clocks jump from 00:00 to 01:00 starts at 05:00Z, not at 23:00 the day before."""
    window = parse_window("2026-03-08", "America/Havana")
    assert window.start == datetime(2026, 3, 8, 5, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 9, 4, tzinfo=UTC)
    assert parse_window("2026-03-07", "America/Havana").end - parse_window("2026-03-07", "America/Havana").start == (
        timedelta(hours=24)
    )
    month = parse_window("2026-03", "America/Havana")
    assert month.start == datetime(2026, 3, 1, 5, tzinfo=UTC)
    assert month.end == datetime(2026, 4, 1, 4, tzinfo=UTC)
    # A milestone due at the end of 2026-03-07 there is due when the 8th starts, at 05:00Z.
    assert point("2026-03-07", "America/Havana").due_at == datetime(2026, 3, 8, 5, tzinfo=UTC)
    # Moved from the 7th to the 8th is one calendar day, although that day has 23 hours.
    assert slip_days(point("2026-03-07", "America/Havana"), point("2026-03-08", "America/Havana")) == 1


def test_a_midnight_that_happens_twice_starts_the_day_at_its_first_occurrence() -> None:
    # Havana sets clocks back from 01:00 CDT to 00:00 CST on 2026-11-01: midnight comes twice.
    window = parse_window("2026-11-01", "America/Havana")
    assert window.start == datetime(2026, 11, 1, 4, tzinfo=UTC)  # 00:00 CDT, the first midnight
    assert window.end == datetime(2026, 11, 2, 5, tzinfo=UTC)
    assert window.end - window.start == timedelta(hours=25)
    assert parse_window("2026-10-31", "America/Havana").end == window.start


def test_lord_howe_shifts_by_half_an_hour() -> None:
    spring = parse_window("2026-10-04", "Australia/Lord_Howe")  # 02:00 +10:30 -> 02:30 +11
    autumn = parse_window("2026-04-05", "Australia/Lord_Howe")  # 02:00 +11 -> 01:30 +10:30
    assert (spring.start, spring.end) == (
        datetime(2026, 10, 3, 13, 30, tzinfo=UTC),
        datetime(2026, 10, 4, 13, tzinfo=UTC),
    )
    assert spring.end - spring.start == timedelta(hours=23, minutes=30)
    assert (autumn.start, autumn.end) == (
        datetime(2026, 4, 4, 13, tzinfo=UTC),
        datetime(2026, 4, 5, 13, 30, tzinfo=UTC),
    )
    assert autumn.end - autumn.start == timedelta(hours=24, minutes=30)


def test_the_first_and_last_accepted_years() -> None:
    first = parse_window("1900")
    assert (first.start, first.end) == (datetime(1900, 1, 1, tzinfo=UTC), datetime(1901, 1, 1, tzinfo=UTC))
    assert parse_window("1900-01-01").end == datetime(1900, 1, 2, tzinfo=UTC)
    last = parse_window("2999-12-31")
    assert (last.start, last.end) == (datetime(2999, 12, 31, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC))
    assert parse_window("2999").end == datetime(3000, 1, 1, tzinfo=UTC)
    assert parse_window("2999-12").start == datetime(2999, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end", "precision", "written"),
    [
        ("2025-H1", datetime(2025, 1, 1), datetime(2025, 7, 1), Precision.HALF, "2025-H1"),
        ("2025-h2", datetime(2025, 7, 1), datetime(2026, 1, 1), Precision.HALF, "2025-H2"),
        ("2025-q1", datetime(2025, 1, 1), datetime(2025, 4, 1), Precision.QUARTER, "2025-Q1"),
        ("2025-Q4", datetime(2025, 10, 1), datetime(2026, 1, 1), Precision.QUARTER, "2025-Q4"),
        ("2025-12", datetime(2025, 12, 1), datetime(2026, 1, 1), Precision.MONTH, "2025-12"),
        (" 2025-02-28 ", datetime(2025, 2, 28), datetime(2025, 3, 1), Precision.DAY, "2025-02-28"),
        ("2024", datetime(2024, 1, 1), datetime(2025, 1, 1), Precision.YEAR, "2024"),
    ],
)
def test_each_period_form(text: str, start: datetime, end: datetime, precision: Precision, written: str) -> None:
    window = parse_window(text)
    assert (window.start, window.end) == (start.replace(tzinfo=UTC), end.replace(tzinfo=UTC))
    assert (window.precision, window.text, window.timezone) == (precision, written, "UTC")


@pytest.mark.parametrize(
    ("text", "start", "precision"),
    [
        ("2025-09-15T10:30z", datetime(2025, 9, 15, 10, 30), Precision.MINUTE),  # lowercase z is UTC
        ("2025-09-15t10:30:05z", datetime(2025, 9, 15, 10, 30, 5), Precision.SECOND),
        ("2025-09-15T10:30", datetime(2025, 9, 15, 8, 30), Precision.MINUTE),  # naive: the milestone's zone
        ("2025-09-15 10:30:05", datetime(2025, 9, 15, 8, 30, 5), Precision.SECOND),
        ("2025-09-15T10:30+0300", datetime(2025, 9, 15, 7, 30), Precision.MINUTE),
        ("2025-09-15T10:30+03:00", datetime(2025, 9, 15, 7, 30), Precision.MINUTE),
        ("2025-09-15T10:30:05-03:00", datetime(2025, 9, 15, 13, 30, 5), Precision.SECOND),
    ],
)
def test_instants_in_every_spelling(text: str, start: datetime, precision: Precision) -> None:
    window = parse_window(text, "Europe/Berlin")
    assert window.start == start.replace(tzinfo=UTC)
    assert window.precision is precision
    step = timedelta(seconds=1) if precision is Precision.SECOND else timedelta(minutes=1)
    assert window.end == window.start + step
    assert (window.text, window.timezone) == (text, "Europe/Berlin")


def test_dates_and_datetimes_given_as_values() -> None:
    day = parse_window(date(2025, 9, 15), "Europe/Berlin")
    assert (day.precision, day.text, day.start) == (Precision.DAY, "2025-09-15", datetime(2025, 9, 14, 22, tzinfo=UTC))
    aware = parse_window(datetime(2025, 9, 15, 10, 30, tzinfo=UTC), "Europe/Berlin")
    assert (aware.precision, aware.start) == (Precision.SECOND, datetime(2025, 9, 15, 10, 30, tzinfo=UTC))
    naive = parse_window(datetime(2025, 9, 15, 10, 30), "Europe/Berlin")
    assert naive.start == datetime(2025, 9, 15, 8, 30, tzinfo=UTC)
    assert parse_window(2025, "Europe/Berlin").start == datetime(2024, 12, 31, 23, tzinfo=UTC)
    with pytest.raises(ValueError, match="True is not a date"):
        parse_window(True)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["2025-09-15T10:30+25:00", "2025-09-31T10:30", "2025-09-15T24:30"])
def test_impossible_instants_are_refused_with_the_forms(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_window(text)
    assert str(caught.value) == f"{text!r} is not a date; {HINT}"


def test_bad_dates_name_the_text_and_the_forms() -> None:
    for text in ("2025-02-30", "2025-13", "2025-Q0"):
        with pytest.raises(ValueError) as caught:
            parse_window(text)
        assert str(caught.value) == f"{text!r} is not a date; {HINT}"
    with pytest.raises(ValueError) as caught:
        parse_window("1899")
    assert str(caught.value) == "'1899' is out of range; years 1900 to 2999 are accepted"


def test_an_end_window_may_not_begin_before_the_start_window() -> None:
    """`starts: 2025-06, ends: 2025` would reach back to January: refused, saying what to write."""
    with pytest.raises(ValueError) as caught:
        span("2025-06", "2025")
    assert str(caught.value) == (
        "ends '2025' begins before starts '2025-06'; give an end that begins at or after the start,"
        " like '2025-06' or later"
    )
    with pytest.raises(ValueError, match="ends '2025-05' is before starts '2025-06'; a span must end after it starts"):
        span("2025-06", "2025-05")
    same = span("2025", "2025-01")  # an end window starting with the start window is fine
    assert (same.opens_at, same.due_at) == (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 1, tzinfo=UTC))
    assert same.is_span and same.describe() == "2025 → 2025-01"


def test_a_point_schedule() -> None:
    schedule = point("2025-Q3")
    assert (schedule.opens_at, schedule.due_at) == (datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 10, 1, tzinfo=UTC))
    assert not schedule.is_span
    assert schedule.describe() == "2025-Q3"
    assert span("2025", "2027").describe() == "2025 → 2027"
    assert Schedule(schedule.opens, schedule.closes) == schedule


def test_window_bounds_must_be_aware_utc_and_ordered() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    window = Window(start, start + timedelta(days=1), Precision.DAY, "2025-01-01")
    assert start in window and start + timedelta(days=1) not in window and start - timedelta(seconds=1) not in window
    assert window.local_start == start and window.timezone == "UTC"
    with pytest.raises(ValueError) as caught:
        Window(start.replace(tzinfo=None), start + timedelta(days=1), Precision.DAY, "x")
    assert str(caught.value) == "window bounds must be aware UTC datetimes"
    with pytest.raises(ValueError, match="window bounds must be aware UTC datetimes"):
        Window(start, (start + timedelta(days=1)).astimezone(ZoneInfo("Europe/Berlin")), Precision.DAY, "x")
    with pytest.raises(ValueError, match="empty window 'x'"):
        Window(start, start, Precision.DAY, "x")
    assert Precision.DAY.is_date and Precision.YEAR.is_date
    assert not Precision.MINUTE.is_date and not Precision.SECOND.is_date


def test_slip_days_count_whole_days_either_way() -> None:
    assert slip_days(point("2025-01-01"), point("2025-01-02")) == 1
    assert slip_days(point("2025-01-02"), point("2025-01-01")) == -1
    assert slip_days(point("2025-01-01T00:00Z"), point("2025-01-01T23:59Z")) == 0
    assert slip_days(point("2025-01-01T23:59Z"), point("2025-01-01T00:00Z")) == 0
    assert slip_days(point("2025-01-01T00:00Z"), point("2025-01-02T00:00Z")) == 1


def test_a_span_reads_both_ends_in_its_zone() -> None:
    schedule = span("2025", "2026-06", "Europe/Berlin")
    assert schedule.opens_at == datetime(2024, 12, 31, 23, tzinfo=UTC)
    assert schedule.due_at == datetime(2026, 6, 30, 22, tzinfo=UTC)
    assert (schedule.opens.timezone, schedule.closes.timezone) == ("Europe/Berlin", "Europe/Berlin")
    assert slip_days(span("2025", "2026-06", "Europe/Berlin"), span("2025", "2026-07", "Europe/Berlin")) == 31
    # Calendar days, not 24-hour periods: from the 1st to the 30th of the month before is two days.
    assert slip_days(point("2025-01-01T00:00Z"), point("2024-12-30T12:00Z")) == -2


@pytest.fixture
def machine_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone set to New York for one test (TZ and `time.tzset`), then restored."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("machine_in_new_york")
def test_instants_are_utc_whatever_the_machines_zone() -> None:
    """Windows and instant text come out in UTC on a server set to any zone: a naive instant is
    UTC, not the machine's wall clock."""
    assert utc_text(datetime(2028, 1, 1)) == "2028-01-01T00:00:00Z"
    assert utc_text(datetime(2028, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))) == "2027-12-31T23:00:00Z"
    assert parse_window("2026-03-08", "America/Havana").start.isoformat() == "2026-03-08T05:00:00+00:00"
    assert parse_window("2026-03-08T10:00+02:00").start.isoformat() == "2026-03-08T08:00:00+00:00"
    assert parse_window("2026-03-08T10:00:00", "Europe/Berlin").end.isoformat() == "2026-03-08T09:00:01+00:00"


def test_how_many_calendar_days_the_opening_moved() -> None:
    """Counted in each schedule's own zone: a milestone moved between zones whose windows both open
    on 1 January has not moved its opening."""
    assert start_shift_days(span("2025", "2027"), span("2025-03", "2027")) == 59
    assert start_shift_days(span("2025-03", "2027"), span("2025", "2027")) == -59
    assert start_shift_days(span("2025", "2027", "Europe/Berlin"), span("2025-02", "2027", "Europe/Berlin")) == 31
    assert start_shift_days(span("2025", "2027", "Asia/Tokyo"), span("2025", "2027", "America/Los_Angeles")) == 0
    assert start_shift_days(span("2025", "2027", "America/Los_Angeles"), span("2025", "2027", "Asia/Tokyo")) == 0
