"""The due rules, as pure functions: no database, no clock."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.timeline.builders import milestone
from timeline.dates import utc_text
from timeline.rules import decide, milestone_data, scan, stage_at, stages

GOLDEN = Path(__file__).parent / "golden" / "payloads"
"""One notice of each milestone stage as a receiver gets it. After a deliberate change of the
payload, rewrite them with `TIMELINE_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/timeline/test_rules.py`
and review the diff: subscriptions filter on `type`, receivers read `data` by these names."""

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


# A span in a zone with daylight saving, tagged, with a subject and a source: every field filled.
RECEIVER_MILESTONE = dataclasses.replace(
    milestone("dc-iowa", starts="2026-07", ends="2026-09", tz="America/Chicago"),
    title="Iowa data centre opens",
    subject="anthropic",
    tags=("datacenter", "us"),
    source="https://example.com/press",
)
GOLDEN_MOMENTS = {
    "milestone.upcoming": "2026-06-20T09:30:00",  # the 30-day reminder (window opens 07-01 05:00Z)
    "milestone.window_opened": "2026-07-15T12:00:00",
    "milestone.due": "2026-10-01T05:00:00",  # the instant the due stage begins: due_at
    "milestone.overdue": "2026-12-01T18:00:00",  # the second overdue reminder
}


def _golden_record(notice_type: str) -> dict:  # type: ignore[type-arg]
    now = at(GOLDEN_MOMENTS[notice_type])
    (notice,) = decide(RECEIVER_MILESTONE, set(), now, T0, False).notices
    return {
        "key": notice.key,
        "occurred_at": utc_text(notice.occurred_at),
        "subjects": list(notice.subjects),
        "tags": list(notice.tags),
        "payload": notice.payload(),
    }


@pytest.mark.parametrize("notice_type", sorted(GOLDEN_MOMENTS))
def test_golden_payloads(notice_type: str) -> None:
    """Every field of every milestone notice, as sent: a renamed field, a changed type or summary
    shows up as a diff against the file checked in."""
    record = _golden_record(notice_type)
    path = GOLDEN / f"{notice_type}.json"
    if os.environ.get("TIMELINE_REGENERATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert record == json.loads(path.read_text(encoding="utf-8"))
    assert record["payload"]["type"] == notice_type


def test_the_fields_a_receiver_relies_on() -> None:
    """Spelled out, so that a regenerated golden file cannot quietly drop them."""
    due = _golden_record("milestone.due")
    assert due["payload"]["type"] == "milestone.due"
    assert due["payload"]["timestamp"] == "2026-10-01T05:00:00Z"
    data = due["payload"]["data"]
    assert data["milestone"] == "dc-iowa" and data["title"] == "Iowa data centre opens"
    assert (data["subject"], data["status"], data["tags"]) == ("anthropic", "planned", ["datacenter", "us"])
    assert data["window"] == {
        "text": "2026-07 → 2026-09",
        "opens_at": "2026-07-01T05:00:00Z",
        "due_at": "2026-10-01T05:00:00Z",
        "timezone": "America/Chicago",
    }
    assert data["days_until_due"] == 0 and type(data["days_until_due"]) is int
    assert data["source"] == "https://example.com/press"
    assert data["stage"] is None
    assert data["summary"] == "Iowa data centre opens: due now (2026-07 → 2026-09), status planned"
    assert (due["subjects"], due["tags"]) == (["dc-iowa"], ["datacenter", "us"])
    upcoming = _golden_record("milestone.upcoming")["payload"]["data"]
    assert (upcoming["stage"], upcoming["days_until_due"]) == ("30d", 102)
    assert upcoming["summary"] == "Iowa data centre opens: window opens in 30d (2026-07 → 2026-09)"
    opened = _golden_record("milestone.window_opened")["payload"]["data"]
    assert opened["summary"] == "Iowa data centre opens: window opened (2026-07 → 2026-09), due in 77 days"
    overdue = _golden_record("milestone.overdue")
    assert overdue["payload"]["data"]["stage"] == "2"
    assert overdue["payload"]["data"]["days_until_due"] == -61
    assert overdue["payload"]["data"]["summary"] == (
        "Iowa data centre opens: overdue by 61 days (2026-07 → 2026-09), status planned"
    )
    assert overdue["key"] == "milestone.overdue:dc-iowa:2026-10-01T05:00:00Z:2"
    assert overdue["occurred_at"] == "2026-11-30T05:00:00Z"


def test_days_until_due_counts_whole_days_towards_zero() -> None:
    m = milestone("d", "2026-07-01")  # due 2026-07-02T00:00Z
    assert milestone_data(m, at("2026-07-01T00:00:01"))["days_until_due"] == 0
    assert milestone_data(m, at("2026-06-30T00:00:00"))["days_until_due"] == 2
    assert milestone_data(m, at("2026-06-30T00:00:01"))["days_until_due"] == 1
    assert milestone_data(m, at("2026-07-03T12:00:00"))["days_until_due"] == -1
    assert milestone_data(m, at("2026-07-04T00:00:00"))["days_until_due"] == -2
    assert milestone_data(m, at("2026-07-02T00:00:00"))["days_until_due"] == 0
    point = milestone_data(m, at("2026-07-02T00:00:00"))
    assert point["window"]["text"] == "2026-07-01" and point["subject"] is None and point["source"] is None


def test_stages_of_a_point_milestone() -> None:
    listed = list(zip(range(7), stages(DUE_DAY), strict=False))
    found = [(s.type, s.start, s.end, s.label) for _, s in listed]
    assert found == [
        ("milestone.upcoming", at("2026-04-02"), at("2026-06-01"), "90d"),
        ("milestone.upcoming", at("2026-06-01"), at("2026-06-24"), "30d"),
        ("milestone.upcoming", at("2026-06-24"), at("2026-06-30"), "7d"),
        ("milestone.upcoming", at("2026-06-30"), at("2026-07-01"), "1d"),
        ("milestone.window_opened", at("2026-07-01"), at("2026-07-02"), ""),
        ("milestone.due", at("2026-07-02"), at("2026-08-01"), ""),
        ("milestone.overdue", at("2026-08-01"), at("2026-08-31"), "1"),
    ]


def test_a_reminder_of_zero_is_no_reminder_and_no_grace_means_no_due_stage() -> None:
    m = milestone("z", "2026-07-01", remind=[timedelta(0), timedelta(days=2)], grace=timedelta(0), repeat=None)
    found = [(s.type, s.start, s.end) for s in stages(m)]
    assert found == [
        ("milestone.upcoming", at("2026-06-29"), at("2026-07-01")),
        ("milestone.window_opened", at("2026-07-01"), at("2026-07-02")),
        ("milestone.overdue", at("2026-07-02"), at("2026-07-02") + timedelta(days=365 * 1000)),
    ]
    assert keys_of(m, at("2026-07-02")) == ["milestone.overdue:z:2026-07-02T00:00:00Z:1"]
    assert decide(m, set(), at("2026-07-01"), T0, False).next_check_at == at("2026-07-02")
    assert list(stages(milestone(status="done"))) == []


def test_repeated_overdue_stages_at_their_exact_boundaries() -> None:
    overdue_from = at("2026-08-01")
    stage, next_at = stage_at(DUE_DAY, overdue_from)
    assert stage is not None and (stage.label, stage.start, stage.end, next_at) == (
        "1",
        overdue_from,
        at("2026-08-31"),
        at("2026-08-31"),
    )
    stage, next_at = stage_at(DUE_DAY, at("2026-08-30T23:59:59"))
    assert stage is not None and stage.label == "1"
    stage, next_at = stage_at(DUE_DAY, at("2026-08-31"))
    assert stage is not None and (stage.label, stage.start, next_at) == ("2", at("2026-08-31"), at("2026-09-30"))
    stage, _ = stage_at(DUE_DAY, at("2026-07-31T23:59:59"))
    assert stage is not None and stage.type == "milestone.due"
    assert stage_at(milestone(status="cancelled"), at("2026-08-31")) == (None, None)


def test_a_stage_that_began_exactly_when_the_milestone_became_known_is_news() -> None:
    known = at("2026-07-02")  # the due stage starts then
    assert keys_of(DUE_DAY, known, known=known) == ["milestone.due:m:2026-07-02T00:00:00Z"]
    assert keys_of(DUE_DAY, known, known=known + timedelta(seconds=1)) == []
    quiet = decide(DUE_DAY, set(), known, known + timedelta(seconds=1), False)
    assert quiet.next_check_at == at("2026-08-01")
    sent = decide(DUE_DAY, {"milestone.due:m:2026-07-02T00:00:00Z"}, known, T0, False)
    assert (sent.notices, sent.next_check_at) == ((), at("2026-08-01"))


def test_scan_decides_every_milestone_by_id() -> None:
    other = milestone("o", "2026-09-01")
    decisions = scan([(DUE_DAY, T0), (other, at("2026-07-02"))], set(), at("2026-07-02"), False)
    assert sorted(decisions) == ["m", "o"]
    assert [n.key for n in decisions["m"].notices] == ["milestone.due:m:2026-07-02T00:00:00Z"]
    assert [n.key for n in decisions["o"].notices] == []  # its 90-day stage began before it was known
    assert decisions["o"].next_check_at == at("2026-08-02")
    past = scan([(other, at("2026-07-02"))], set(), at("2026-07-02"), True)
    assert [n.key for n in past["o"].notices] == ["milestone.upcoming:o:2026-09-01T00:00:00Z:90d"]
    assert scan([(DUE_DAY, T0)], {"milestone.due:m:2026-07-02T00:00:00Z"}, at("2026-07-02"), False)["m"].notices == ()
