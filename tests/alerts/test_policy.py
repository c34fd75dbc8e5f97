"""The pure decisions: filters, the retry schedule, Retry-After, disabling, and the SSRF ranges."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.config import DEFAULT_SCHEDULE
from alerts.guard import AddressPolicy, refusal
from alerts.policy import AttemptResult, Decision, Filters, decide, should_disable, wants

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAIL = AttemptResult(500, 10.0)


@pytest.mark.parametrize(
    ("filters", "kind", "tags", "subjects", "expected"),
    [
        (Filters(("milestone.*",)), "milestone.due", (), (), True),
        (Filters(("milestone.*",)), "feed.item_matched", (), (), False),
        (Filters(("*",)), "feed.item_matched", (), (), True),
        (Filters(("milestone.due", "feed.*")), "feed.failing", (), (), True),
        (Filters(("*",), tags=("anthropic",)), "milestone.due", ("anthropic", "us"), (), True),
        (Filters(("*",), tags=("anthropic",)), "milestone.due", ("google",), (), False),
        (Filters(("*",), tags=("anthropic",)), "milestone.due", (), (), False),
        (Filters(("*",), subjects=("m1",)), "milestone.due", (), ("m1", "m2"), True),
        (Filters(("*",), subjects=("m1",)), "milestone.due", (), ("m3",), False),
        (Filters(("*",), tags=("a",), subjects=("m1",)), "milestone.due", ("a",), ("m2",), False),
        (Filters(("subscription.*",), tags=("a",)), "subscription.disabled", (), (), True),
        (Filters(("Milestone.*",)), "milestone.due", (), (), False),
    ],
)
def test_wants(filters: Filters, kind: str, tags: tuple[str, ...], subjects: tuple[str, ...], expected: bool) -> None:
    assert wants(filters, kind, tags, subjects) is expected


def test_only_2xx_is_delivered() -> None:
    rng = random.Random(1)
    assert decide(AttemptResult(200, 1), 1, NOW, DEFAULT_SCHEDULE, rng).status == "delivered"
    assert decide(AttemptResult(204, 1), 1, NOW, DEFAULT_SCHEDULE, rng).status == "delivered"
    for code in (301, 302, 307, 400, 404, 500, 503):
        assert decide(AttemptResult(code, 1), 1, NOW, DEFAULT_SCHEDULE, rng).status == "pending"
    assert decide(AttemptResult(200, 1, error="reset"), 1, NOW, DEFAULT_SCHEDULE, rng).status == "pending"


def test_410_kills_the_delivery_and_disables_the_subscription() -> None:
    decision = decide(AttemptResult(410, 1), 1, NOW, DEFAULT_SCHEDULE, random.Random(1))
    assert decision.status == "dead"
    assert decision.disable_reason is not None and "410" in decision.disable_reason


def test_dead_after_the_last_step() -> None:
    rng = random.Random(1)
    attempts = len(DEFAULT_SCHEDULE) + 1
    assert decide(FAIL, attempts - 1, NOW, DEFAULT_SCHEDULE, rng).status == "pending"
    assert decide(FAIL, attempts, NOW, DEFAULT_SCHEDULE, rng).status == "dead"


@given(attempt=st.integers(1, len(DEFAULT_SCHEDULE)), seed=st.integers(0, 2**32))
def test_jittered_waits_stay_within_20_percent(attempt: int, seed: int) -> None:
    decision = decide(FAIL, attempt, NOW, DEFAULT_SCHEDULE, random.Random(seed))
    assert decision.next_attempt_at is not None
    step = DEFAULT_SCHEDULE[attempt - 1]
    assert 0.8 * step <= decision.next_attempt_at - NOW <= 1.2 * step


@given(attempt=st.integers(1, len(DEFAULT_SCHEDULE)), seed=st.integers(0, 2**32), code=st.sampled_from([None, 429]))
def test_timeouts_and_429_wait_at_least_a_minute(attempt: int, seed: int, code: int | None) -> None:
    result = AttemptResult(code, 1, error=None if code else "timed out", timed_out=code is None)
    decision = decide(result, attempt, NOW, DEFAULT_SCHEDULE, random.Random(seed))
    assert decision.next_attempt_at is not None
    wait = decision.next_attempt_at - NOW
    assert wait >= timedelta(seconds=60)
    assert wait <= max(timedelta(seconds=60), 1.2 * DEFAULT_SCHEDULE[attempt - 1])


@given(attempt=st.integers(1, len(DEFAULT_SCHEDULE)), asked=st.integers(0, 10**7), seed=st.integers(0, 2**32))
def test_retry_after_is_honoured_within_bounds(attempt: int, asked: int, seed: int) -> None:
    result = AttemptResult(503, 1, retry_after=str(asked))
    decision = decide(result, attempt, NOW, DEFAULT_SCHEDULE, random.Random(seed))
    assert decision.next_attempt_at is not None
    step = DEFAULT_SCHEDULE[attempt - 1]
    expected = max(step, min(timedelta(seconds=asked), timedelta(hours=24)))
    assert decision.next_attempt_at - NOW == expected


def test_an_http_date_retry_after_is_honoured() -> None:
    result = AttemptResult(429, 1, retry_after=format_datetime(NOW + timedelta(hours=3), usegmt=True))
    decision = decide(result, 1, NOW, DEFAULT_SCHEDULE, random.Random(0))
    assert decision.next_attempt_at == NOW + timedelta(hours=3)


def test_should_disable_after_failing_that_long_without_success() -> None:
    days5 = timedelta(days=5)
    assert not should_disable(None, None, NOW, days5)
    assert not should_disable(NOW - timedelta(days=4), None, NOW, days5)
    assert should_disable(NOW - days5, None, NOW, days5)
    assert should_disable(NOW - timedelta(days=6), NOW - timedelta(days=7), NOW, days5)
    assert not should_disable(NOW - timedelta(days=6), NOW - timedelta(days=1), NOW, days5)


REFUSED = {
    "127.0.0.1": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "IPv4-mapped loopback",
    "169.254.169.254": "link-local",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "carrier-grade NAT",
    "fc00::1": "unique-local",
    "fd12:3456::1": "unique-local",
    "fe80::1": "link-local",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "240.0.0.1": "reserved",
    "64:ff9b::7f00:1": "loopback",
    "::ffff:10.0.0.1": "private",
    "198.18.0.1": "",
    "192.0.2.1": "",
}


@pytest.mark.parametrize("address", sorted(REFUSED))
def test_the_guard_refuses_every_non_public_range(address: str) -> None:
    reason = refusal(address, AddressPolicy())
    assert reason is not None
    assert REFUSED[address] in reason
    opened = refusal(address, AddressPolicy(allow_private=True))
    assert (opened is None) == ("link-local" not in REFUSED[address])


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111", "8.8.8.8"])
def test_the_guard_lets_public_addresses_through(address: str) -> None:
    assert refusal(address, AddressPolicy()) is None


def test_an_allowlisted_cidr_passes_and_its_neighbours_do_not() -> None:
    policy = AddressPolicy.from_settings(False, ["10.1.0.0/16"])
    assert refusal("10.1.2.3", policy) is None
    assert refusal("10.2.0.1", policy) is not None
    assert refusal("not-an-ip", policy) is not None


def test_410_names_the_reason_in_plain_words() -> None:
    decision = decide(AttemptResult(410, 1), 1, NOW, DEFAULT_SCHEDULE, random.Random(1))
    assert decision == Decision("dead", None, "the target answered 410 Gone")


@pytest.mark.parametrize(("code", "delivered"), [(199, False), (200, True), (299, True), (300, False), (304, False)])
def test_the_edges_of_2xx(code: int, delivered: bool) -> None:
    assert AttemptResult(code, 1).ok is delivered
    assert AttemptResult(None, 1, error="refused").ok is False
    status = decide(AttemptResult(code, 1), 1, NOW, DEFAULT_SCHEDULE, random.Random(1)).status
    assert status == ("delivered" if delivered else "pending")


def test_jitter_spreads_over_the_whole_range_around_the_step() -> None:
    """±20 %: over many draws the waits reach near both bounds and centre on the step, not on a bound."""
    rng = random.Random(7)
    step = DEFAULT_SCHEDULE[2]
    waits = [(decide(FAIL, 3, NOW, DEFAULT_SCHEDULE, rng).next_attempt_at - NOW) / step for _ in range(400)]  # type: ignore[operator]
    assert min(waits) < 0.83 and max(waits) > 1.17
    assert 0.97 < sum(waits) / len(waits) < 1.03
    assert all(0.8 <= w <= 1.2 for w in waits)


def test_a_success_at_the_instant_failing_began_ends_the_episode() -> None:
    days5 = timedelta(days=5)
    began = NOW - timedelta(days=6)
    assert not should_disable(began, began, NOW, days5)
    assert should_disable(began, began - timedelta(seconds=1), NOW, days5)
    assert not should_disable(NOW - days5 + timedelta(seconds=1), None, NOW, days5)


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (
            AttemptResult(None, 1, error="the chat channel refused the token", permanent=True),
            "the chat channel refused the token",
        ),
        (AttemptResult(400, 1, permanent=True), "the target refused the delivery for good"),
        (AttemptResult(400, 1, error="", permanent=True), "the target refused the delivery for good"),
    ],
)
def test_a_permanent_refusal_kills_the_delivery_at_once_and_says_why(result: AttemptResult, reason: str) -> None:
    """Retrying cannot help: dead on the first attempt with steps left, the subscription disabled
    with the channel's own words, or a plain default."""
    assert decide(result, 1, NOW, DEFAULT_SCHEDULE, random.Random(1)) == Decision("dead", None, reason)
    assert decide(AttemptResult(400, 1), 1, NOW, DEFAULT_SCHEDULE, random.Random(1)).status == "pending"


def test_a_429_on_a_short_step_waits_a_minute_and_a_neighbour_code_does_not() -> None:
    step = (timedelta(seconds=5),)
    assert decide(AttemptResult(429, 1), 1, NOW, step, random.Random(3)) == Decision(
        "pending", NOW + timedelta(seconds=60)
    )
    for code in (428, 430, 500):
        decision = decide(AttemptResult(code, 1), 1, NOW, step, random.Random(3))
        assert decision.next_attempt_at is not None
        assert timedelta(seconds=4) <= decision.next_attempt_at - NOW <= timedelta(seconds=6)
