"""Polling decisions as pure functions: no server, no database, no clock."""

from __future__ import annotations

import dataclasses
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


FAILING = FeedState(
    interval=timedelta(minutes=15),
    status="error",
    fetch_url="https://old/",
    etag='"old"',
    last_modified="Sat, 28 Feb 2026 10:00:00 GMT",
    body_hash="old-hash",
    consecutive_failures=2,
    last_error="HTTP 500",
    last_status_code=500,
    last_polled_at=NOW - HOUR,
    last_success_at=NOW - DAY,
    failing_since=NOW - 2 * HOUR,
    failing_notified_at=NOW - HOUR,
    next_poll_at=NOW,
)


def test_every_field_a_parsed_200_sets() -> None:
    outcome = Outcome(status=200, headers={"etag": '"new"', "last-modified": "Sun"}, body_hash="new-hash", parsed=True)
    decision = _decide(FAILING, outcome)
    assert decision.state == FeedState(
        interval=timedelta(minutes=15),
        status="ok",
        fetch_url="https://old/",
        etag='"new"',
        last_modified="Sun",
        body_hash="new-hash",
        consecutive_failures=0,
        last_error=None,
        last_status_code=200,
        last_polled_at=NOW,
        last_success_at=NOW,
        failing_since=None,
        failing_notified_at=None,
        next_poll_at=NOW + timedelta(minutes=15),
    )
    assert (decision.failing, decision.recovered_from) == (False, NOW - 2 * HOUR)


def test_a_200_without_validators_clears_the_old_ones() -> None:
    """Validators belong to the body they came with: sending the old ETag next time would get a 304
    for a body we never stored."""
    decision = _decide(FAILING, Outcome(status=200, body_hash="new-hash", parsed=True))
    assert (decision.state.etag, decision.state.last_modified) == (None, None)
    unparsed = _decide(FAILING, Outcome(status=200, body_hash="old-hash", parsed=False))
    assert (unparsed.state.etag, unparsed.state.last_modified, unparsed.state.status) == (None, None, "not_modified")


def test_a_304_keeps_the_validators_it_does_not_repeat_and_takes_new_ones() -> None:
    kept = _decide(FAILING, Outcome(status=304))
    assert (kept.state.etag, kept.state.last_modified, kept.state.body_hash) == (
        '"old"',
        "Sat, 28 Feb 2026 10:00:00 GMT",
        "old-hash",
    )
    assert (kept.state.status, kept.state.last_status_code, kept.state.last_success_at) == ("not_modified", 304, NOW)
    fresh = _decide(FAILING, Outcome(status=304, headers={"etag": '"e2"', "last-modified": "Mon"}))
    assert (fresh.state.etag, fresh.state.last_modified) == ('"e2"', "Mon")


def test_every_field_a_failure_sets() -> None:
    decision = _decide(FAILING, Outcome(status=502, permanent_url="https://new/"), jitter=0.5)
    assert decision.state == dataclasses.replace(
        FAILING,
        status="error",
        consecutive_failures=3,
        last_error="HTTP 502",
        last_status_code=502,
        last_polled_at=NOW,
        next_poll_at=NOW + timedelta(hours=1) * 1.05,
    )
    assert (decision.failing, decision.recovered_from) == (False, None)
    refused = _decide(STATE, Outcome(error="connection refused"))
    assert (refused.state.last_error, refused.state.last_status_code, refused.state.status) == (
        "connection refused",
        None,
        "error",
    )


@pytest.mark.parametrize("status", [300, 301, 199, 404])
def test_only_2xx_and_304_are_success(status: int) -> None:
    decision = _decide(STATE, Outcome(status=status, body_hash="h", parsed=True))
    assert (decision.state.status, decision.state.consecutive_failures) == ("error", 1)
    assert decision.state.last_error == f"HTTP {status}"
    assert not needs_parse(STATE, status, "h")


def test_a_2xx_edge_and_an_error_with_a_status() -> None:
    assert _decide(STATE, Outcome(status=299, body_hash="h", parsed=True)).state.status == "ok"
    assert needs_parse(STATE, 299, "h") and needs_parse(STATE, 200, "h")
    assert not needs_parse(STATE, 200, None)
    broken = _decide(STATE, Outcome(status=200, error="not a feed"))
    assert (broken.state.status, broken.state.last_error, broken.state.last_status_code) == ("error", "not a feed", 200)


def test_failing_is_announced_at_exactly_alert_after() -> None:
    began = FeedState(interval=HOUR, status="error", consecutive_failures=1, failing_since=NOW - HOUR)
    at_the_instant = _decide(began, Outcome(status=500), alert_after=HOUR)
    assert at_the_instant.failing and at_the_instant.state.failing_notified_at == NOW
    just_before = _decide(began, Outcome(status=500), alert_after=HOUR + timedelta(seconds=1))
    assert not just_before.failing and just_before.state.failing_notified_at is None
    at_once = _decide(STATE, Outcome(status=500), alert_after=timedelta(0))
    assert at_once.failing and at_once.state.failing_since == NOW


def test_retry_after_on_503_and_its_bounds() -> None:
    asked = {"retry-after": "7200"}
    assert _decide(STATE, Outcome(status=503, headers=asked), jitter=0.5).state.next_poll_at == NOW + 2 * HOUR
    far = {"retry-after": str(10 * 86400)}
    assert _decide(STATE, Outcome(status=429, headers=far)).state.next_poll_at == NOW + MAX_DELAY
    soon = {"retry-after": "1"}  # not sooner than the interval (with its jitter)
    assert (
        _decide(STATE, Outcome(status=429, headers=soon), jitter=0.5).state.next_poll_at
        == NOW + timedelta(minutes=15) * 1.05
    )
    assert _decide(STATE, Outcome(status=429)).state.next_poll_at == NOW + timedelta(minutes=15)


def test_jitter_is_clamped_to_ten_percent() -> None:
    for jitter, expected in ((-1.0, 15), (0.0, 15), (1.0, 16.5), (5.0, 16.5)):
        state = _decide(STATE, Outcome(status=304), jitter=jitter).state
        assert state.next_poll_at == NOW + timedelta(minutes=expected)
    assert _decide(STATE, Outcome(status=500), jitter=0.5).state.next_poll_at == NOW + timedelta(minutes=15) * 1.05


def test_backoff_at_its_edges() -> None:
    assert backoff(timedelta(days=2), 0) == MAX_DELAY
    assert backoff(timedelta(minutes=15), -3) == timedelta(minutes=15)
    assert backoff(timedelta(minutes=15), 7) == timedelta(minutes=15) * 64
    assert backoff(timedelta(minutes=15), 8) == timedelta(minutes=15) * 96  # 15 * 128 min is over a day
    assert backoff(timedelta(seconds=1), 17) == timedelta(seconds=2**16)
    assert backoff(timedelta(seconds=1), 10**9) == MAX_DELAY  # the exponent is capped: no overflow


def test_a_recovery_is_announced_only_after_a_failing_notice() -> None:
    noticed = dataclasses.replace(STATE, failing_since=NOW - HOUR, failing_notified_at=NOW - HOUR / 2)
    assert _decide(noticed, Outcome(status=304)).recovered_from == NOW - HOUR
    unnoticed = dataclasses.replace(STATE, failing_since=NOW - HOUR)
    assert _decide(unnoticed, Outcome(status=304)).recovered_from is None
    again = _decide(noticed, Outcome(status=500), alert_after=timedelta(0))
    assert not again.failing and again.state.failing_notified_at == NOW - HOUR / 2


def test_a_repeated_identity_mid_feed_keeps_the_entries_after_it() -> None:
    changes = classify([("a", "1"), ("b", "2"), ("a", "1"), ("c", "3"), ("d", "4")], {"d": "4"})
    assert (changes.new, changes.edited, changes.unchanged) == (("a", "b", "c"), (), ("d",))
    assert classify([], {"a": "1"}) == classify((), {})


def test_expires_without_a_date_header_counts_from_now() -> None:
    headers = {"expires": "Sun, 01 Mar 2026 15:00:00 GMT"}
    decision = _decide(STATE, Outcome(status=200, body_hash="h", parsed=True, headers=headers))
    assert decision.state.next_poll_at == NOW + 3 * HOUR


def test_a_304_is_not_modified_whatever_the_parse_says() -> None:
    decision = _decide(FAILING, Outcome(status=304, body_hash="old-hash", parsed=True))
    assert (decision.state.status, decision.state.etag, decision.state.last_status_code) == (
        "not_modified",
        '"old"',
        304,
    )


def test_a_503_retry_after_as_an_http_date() -> None:
    asked = {"retry-after": "Sun, 01 Mar 2026 14:30:00 GMT"}
    decision = _decide(STATE, Outcome(status=503, headers=asked), jitter=0.5)
    assert decision.state.next_poll_at == NOW + timedelta(hours=2, minutes=30)
    assert (decision.state.status, decision.state.last_error) == ("error", "HTTP 503")
