"""The due rules, as pure functions: no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.timeline.builders import milestone
from timeline.rules import decide, stage_at

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # when the milestones became known
DUE_DAY = milestone("m", "2026-07-01")  # window [07-01, 07-02): opens 07-01, due 07-02


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def keys_of(m, now, sent=frozenset(), known=T0, notify_past=False):  # type: ignore[no-untyped-def]
    return [n.key for n in decide(m, set(sent), now, known, notify_past).notices]


def test_the_stages_in_order() -> None:
    expected = {
        "2026-04-02": "milestone.upcoming:m:2026-07-01T00:00:00Z:90d",
        "2026-06-01": "milestone.upcoming:m:2026-07-01T00:00:00Z:30d",
        "2026-06-24": "milestone.upcoming:m:2026-07-01T00:00:00Z:7d",
        "2026-06-30": "milestone.upcoming:m:2026-07-01T00:00:00Z:1d",
        "2026-07-01": "milestone.window_opened:m:2026-07-01T00:00:00Z",
        "2026-07-02": "milestone.due:m:2026-07-02T00:00:00Z",
        "2026-08-01": "milestone.overdue:m:2026-07-02T00:00:00Z:1",
        "2026-08-31": "milestone.overdue:m:2026-07-02T00:00:00Z:2",
    }
    for day, key in expected.items():
        assert keys_of(DUE_DAY, at(day)) == [key]
    assert keys_of(DUE_DAY, at("2026-04-01T23:59:59")) == []


def test_catch_up_sends_only_the_latest_stage_that_holds() -> None:
    # Down from before the 90-day reminder until three days before the window: only the 7-day one.
    assert keys_of(DUE_DAY, at("2026-06-28")) == ["milestone.upcoming:m:2026-07-01T00:00:00Z:7d"]
    # Down until well after the due date: the overdue stage that holds, nothing stale.
    assert keys_of(DUE_DAY, at("2026-09-15")) == ["milestone.overdue:m:2026-07-02T00:00:00Z:2"]


def test_what_was_sent_is_not_sent_again() -> None:
    key = "milestone.due:m:2026-07-02T00:00:00Z"
    assert keys_of(DUE_DAY, at("2026-07-03"), sent={key}) == []


def test_next_check_is_the_start_of_the_next_stage() -> None:
    assert decide(DUE_DAY, set(), at("2026-05-01"), T0, False).next_check_at == at("2026-06-01")
    assert decide(DUE_DAY, set(), at("2026-07-01T12:00"), T0, False).next_check_at == at("2026-07-02")


def test_done_and_cancelled_raise_nothing() -> None:
    for status in ("done", "cancelled"):
        m = milestone(status=status)
        assert keys_of(m, at("2026-07-05")) == []
        assert decide(m, set(), at("2026-07-05"), T0, False).next_check_at is None


def test_a_milestone_past_when_first_known_is_quiet_unless_notify_past() -> None:
    known = at("2026-09-15")
    assert keys_of(DUE_DAY, known, known=known) == []
    assert keys_of(DUE_DAY, known, known=known, notify_past=True) == ["milestone.overdue:m:2026-07-02T00:00:00Z:2"]
    # and the next stage, which begins after it became known, is news
    assert keys_of(DUE_DAY, at("2026-09-30"), known=known) == ["milestone.overdue:m:2026-07-02T00:00:00Z:3"]


def test_repeat_never_says_overdue_once() -> None:
    m = milestone(repeat=None)
    assert keys_of(m, at("2026-08-01")) == ["milestone.overdue:m:2026-07-02T00:00:00Z:1"]
    assert keys_of(m, at("2030-01-01"), sent={"milestone.overdue:m:2026-07-02T00:00:00Z:1"}) == []
    assert decide(m, set(), at("2026-08-02"), T0, False).next_check_at is None


def test_a_span_opens_with_starts_and_is_due_with_ends() -> None:
    m = milestone("c", starts="2025", ends="2027")
    assert keys_of(m, at("2025-01-01"), known=at("2024-01-01")) == ["milestone.window_opened:c:2025-01-01T00:00:00Z"]
    assert keys_of(m, at("2028-01-01"), known=at("2024-01-01")) == ["milestone.due:c:2028-01-01T00:00:00Z"]
    assert keys_of(m, at("2027-12-31T23:59:59"), known=at("2024-01-01")) == [
        "milestone.window_opened:c:2025-01-01T00:00:00Z"
    ]


def test_berlin_local_midnight_across_daylight_saving() -> None:
    # Due at the end of 2026-03-28 in Berlin = local midnight of the 29th, the night clocks go forward.
    m = milestone("b", "2026-03-28", tz="Europe/Berlin")
    due = datetime(2026, 3, 28, 23, tzinfo=UTC)  # 00:00 CET on the 29th
    stage, _ = stage_at(m, due)
    assert stage is not None and stage.key == "milestone.due:b:2026-03-28T23:00:00Z"
    assert stage_at(m, due - timedelta(seconds=1))[0].type == "milestone.window_opened"  # type: ignore[union-attr]
    # The 1-day reminder for a window opening on the 30th (CEST) fires at local midnight of the 29th.
    after = milestone("a", "2026-03-30", tz="Europe/Berlin")
    assert after.schedule.opens_at == datetime(2026, 3, 29, 22, tzinfo=UTC)
    stage, _ = stage_at(after, datetime(2026, 3, 28, 22, tzinfo=UTC))
    assert stage is not None and stage.label == "1d"


def _run(m, scan_times, known):  # type: ignore[no-untyped-def]
    sent: set[str] = set()
    for now in sorted(scan_times):
        for n in decide(m, sent, now, known, False).notices:
            sent.add(n.key)
    return sent


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=400 * 86400), max_size=40),
    st.sampled_from(["2026-03-28", "2026-05-17", "2026-Q3", "2026-10-25"]),
    st.sampled_from(["UTC", "Europe/Berlin"]),
)
def test_extra_scans_and_restarts_give_the_notices_of_one_scan_a_day(extra: list[int], when: str, tz: str) -> None:
    """Scans are cheap and restarts keep nothing in memory: any number of extra scans at any moment,
    on top of one scan a day, create exactly the notices one scan a day creates."""
    m = milestone("p", when, tz=tz)
    known = at("2026-01-01")
    daily = [known + timedelta(days=d) for d in range(400)]
    randoms = [known + timedelta(seconds=s) for s in extra]
    assert _run(m, daily + randoms, known) == _run(m, daily, known)


def test_the_far_ends_of_the_ranges_do_not_overflow() -> None:
    century = timedelta(days=36500)
    for repeat in (None, century):
        m = milestone("far", "2999-12-31", remind=[century], grace=century, repeat=repeat)
        for now in (at("1900-01-01"), at("2999-12-31"), at("3099-12-31"), at("3500-01-01")):
            decide(m, set(), now, T0, True)
