"""Durations as users write them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline.durations import format_duration, parse_duration, parse_duration_list


def test_the_units() -> None:
    assert parse_duration("30s") == timedelta(seconds=30)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("2w") == timedelta(days=14)
    assert parse_duration_list("5s,5m, 30m") == [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)]


@pytest.mark.parametrize("text", ["soon", "5", "5 days", "-5d", "1.5h", "", "99999999999d", True])
def test_bad_durations_say_how_to_write_one(text: object) -> None:
    with pytest.raises(ValueError, match="write a whole number and a unit"):
        parse_duration(text)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=36500 * 86400))
def test_format_round_trips(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta
