"""Polling decisions as pure functions: no server, no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from timeline.feeds.decide import (
    MAX_DELAY,
    FeedState,
    Outcome,
    backoff,
    classify,
    decide,
    needs_parse,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
STATE = FeedState(interval=timedelta(minutes=15))
DAY = timedelta(days=1)


def _decide(state: FeedState, outcome: Outcome, *, jitter: float = 0.0, alert_after: timedelta = DAY):
    return decide(state, outcome, NOW, jitter=jitter, alert_after=alert_after)


def test_success_schedules_the_interval_with_jitter() -> None:
    low = _decide(STATE, Outcome(status=200, body_hash="h", parsed=True, headers={"etag": '"e"'}))
    high = _decide(STATE, Outcome(status=200, body_hash="h", parsed=True), jitter=0.999)
    assert low.state.next_poll_at == NOW + timedelta(minutes=15)
    assert NOW + timedelta(minutes=16) < (high.state.next_poll_at or NOW) < NOW + timedelta(minutes=16, seconds=31)
    assert (low.state.status, low.state.etag, low.state.body_hash, low.state.last_success_at) == ("ok", '"e"', "h", NOW)


def test_304_keeps_validators_and_counts_as_success() -> None:
    state = FeedState(interval=HOUR, etag='"e"', last_modified="x", body_hash="h", consecutive_failures=3)
    decision = _decide(state, Outcome(status=304))
    assert decision.state.status == "not_modified"
    assert (decision.state.etag, decision.state.last_modified, decision.state.body_hash) == ('"e"', "x", "h")
    assert decision.state.consecutive_failures == 0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "public, max-age=7200"}, 2 * HOUR),
        ({"cache-control": "s-maxage=600"}, timedelta(minutes=15)),  # the interval stays the floor
        ({"cache-control": "max-age=31536000"}, MAX_DELAY),  # capped
        ({"expires": "Sun, 01 Mar 2026 15:00:00 GMT", "date": "Sun, 01 Mar 2026 12:00:00 GMT"}, 3 * HOUR),
        ({"expires": "0"}, timedelta(minutes=15)),
    ],
)
def test_cache_headers_are_a_floor(headers: dict[str, str], expected: timedelta) -> None:
    decision = _decide(STATE, Outcome(status=200, body_hash="h", parsed=True, headers=headers))
    assert decision.state.next_poll_at == NOW + expected


def test_backoff_doubles_up_to_a_day_and_never_stops() -> None:
    assert [backoff(timedelta(minutes=15), n) for n in (0, 1, 2, 3)] == [
        timedelta(minutes=15),
        timedelta(minutes=15),
        timedelta(minutes=30),
        HOUR,
    ]
    assert backoff(timedelta(minutes=15), 10_000) == MAX_DELAY


def test_retry_after_only_for_429_and_503() -> None:
    headers = {"retry-after": "7200"}
    assert _decide(STATE, Outcome(status=429, headers=headers)).state.next_poll_at == NOW + 2 * HOUR
    assert _decide(STATE, Outcome(status=500, headers=headers)).state.next_poll_at == NOW + timedelta(minutes=15)


def test_failing_episode_notifies_once_then_recovers() -> None:
    failed = _decide(STATE, Outcome(error="timed out after 20s"), alert_after=HOUR).state
    assert (failed.failing_since, failed.consecutive_failures, failed.last_error) == (NOW, 1, "timed out after 20s")
    later = decide(failed, Outcome(status=500), NOW + 2 * HOUR, jitter=0, alert_after=HOUR)
    assert later.failing and later.state.failing_since == NOW
    again = decide(later.state, Outcome(status=500), NOW + 3 * HOUR, jitter=0, alert_after=HOUR)
    assert not again.failing
    back = decide(again.state, Outcome(status=304), NOW + 4 * HOUR, jitter=0, alert_after=HOUR)
    assert back.recovered_from == NOW and back.state.failing_since is None
    quiet = decide(failed, Outcome(status=304), NOW + HOUR / 2, jitter=0, alert_after=HOUR)
    assert quiet.recovered_from is None  # never announced as failing: no recovery notice either


def test_permanent_redirect_is_recorded_on_success_only() -> None:
    moved = _decide(STATE, Outcome(status=200, body_hash="h", parsed=True, permanent_url="https://new/"))
    assert moved.state.fetch_url == "https://new/"
    assert _decide(STATE, Outcome(error="x", permanent_url="https://new/")).state.fetch_url is None


def test_unchanged_body_is_not_parsed() -> None:
    state = FeedState(interval=HOUR, body_hash="h")
    assert not needs_parse(state, 200, "h")
    assert needs_parse(state, 200, "other")
    assert not needs_parse(state, 304, None)
    assert not needs_parse(state, 500, "other")
    decision = _decide(state, Outcome(status=200, body_hash="h", parsed=False))
    assert (decision.state.status, decision.state.body_hash) == ("not_modified", "h")


def test_classify_entries() -> None:
    changes = classify([("a", "1"), ("b", "2"), ("c", "3"), ("a", "9")], {"a": "1", "b": "0"})
    assert (changes.new, changes.edited, changes.unchanged) == (("c",), ("b",), ("a",))
