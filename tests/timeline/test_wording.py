"""One human wording per notice type (`timeline.wording`), carried on the notice as `data["message"]`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.message import message_of, own_message
from timeline import humanize
from timeline.config.milestones import MilestoneDef
from timeline.dates import point, slip_days, span
from timeline.rules import stage_notice, stages
from timeline.sync import Change, change_notice
from timeline.wording import change_message, failing_message, item_message, moves, recovered_message, stage_message

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
BASE = "https://timeline.example.org"


def _m(schedule_: object = None, **fields: object) -> MilestoneDef:
    values: dict[str, object] = {
        "id": "build",
        "title": "Build",
        "schedule": schedule_ or span("2025", "2027"),
        "tags": ("dc",),
        "remind": (timedelta(days=90),),
    }
    return MilestoneDef(**(values | fields))  # type: ignore[arg-type]


def test_a_span_slip_names_the_end_old_to_new_with_its_days() -> None:
    before, after = _m(), _m(span("2025", "2028-H1"))
    message = change_message("rescheduled", after, before, NOW, BASE)
    assert message.headline == "Build slipped 182 days"
    assert message.text == "End moved from 2027 to 2028-H1 (+182 days)."
    assert dict(message.facts)["Was"] == "2025 → 2027 (1 Jan 2025 – 31 Dec 2027)"
    assert dict(message.facts)["Now"] == "2025 → H1 2028 (1 Jan 2025 – 30 Jun 2028)"
    assert message.link == "https://timeline.example.org/#m-build"


def test_a_span_names_its_start_and_end_when_both_move() -> None:
    assert moves(span("2025", "2027"), span("2026-Q2", "2027-Q2")) == [
        "start moved from 2025 to 2026-Q2 (+455 days)",
        "end moved from 2027 to 2027-Q2 (-184 days)",
    ]
    message = change_message("rescheduled", _m(span("2026-Q2", "2027-Q2")), _m(), NOW)
    assert message.headline == "Build moved 184 days earlier"


def test_a_q4_to_q1_slip_in_chicago_is_90_calendar_days_despite_dst() -> None:
    before = point("2026-Q4", "America/Chicago")
    after = point("2027-Q1", "America/Chicago")
    assert after.due_at - before.due_at < timedelta(days=90)  # an hour short: DST began in March
    assert slip_days(before, after) == 90
    message = change_message(
        "rescheduled", _m(after, timezone="America/Chicago"), _m(before, timezone="America/Chicago"), NOW
    )
    assert message.text == "Moved from 2026-Q4 to 2027-Q1 (+90 days)."
    assert message.headline == "Build slipped 90 days"


def test_days_and_month_moves_read_as_dates() -> None:
    assert moves(point("2027-09"), point("2027-09-15")) == ["moved from September 2027 to 15 Sep 2027 (-15 days)"]
    assert moves(point("2027", "UTC"), point("2027", "Europe/Paris")) == ["time zone changed from UTC to Europe/Paris"]


def test_the_stages_in_words() -> None:
    plant = _m(point("2027-Q2", "America/Chicago"), title="Plant online", timezone="America/Chicago")
    up = stage_message(plant, "milestone.upcoming", datetime(2027, 1, 1, 6, tzinfo=UTC), BASE)
    assert up.headline == "Plant online: window opens in 90 days"
    assert up.text == "Plant online is expected in Q2 2027 (1 Apr – 30 Jun 2027)."
    assert dict(up.facts)["Due"] == "1 Jul 2027, in 181 days"
    opened = stage_message(plant, "milestone.window_opened", datetime(2027, 4, 1, 5, tzinfo=UTC))
    assert opened.text == "Plant online is expected in Q2 2027 (1 Apr – 30 Jun 2027); due 1 Jul 2027, in 91 days."
    due = stage_message(plant, "milestone.due", datetime(2027, 7, 1, 5, tzinfo=UTC))
    assert (due.headline, dict(due.facts)["Due"]) == ("Plant online is due", "1 Jul 2027, today")
    late = stage_message(_m(status="in_progress"), "milestone.overdue", datetime(2028, 12, 1, tzinfo=UTC))
    assert late.headline == "Build is overdue by 335 days"
    assert late.text == "Build was due 1 Jan 2028 and is still in progress."
    day = stage_message(_m(point("2027-09-15")), "milestone.upcoming", datetime(2027, 9, 8, tzinfo=UTC))
    assert day.headline == "Build is due in 7 days"
    starts = stage_message(_m(), "milestone.upcoming", datetime(2024, 12, 31, tzinfo=UTC))
    assert (starts.headline, starts.text) == (
        "Build starts tomorrow",
        "Build is planned to run 2025 → 2027 (1 Jan 2025 – 31 Dec 2027).",
    )


def test_edits_in_words() -> None:
    added = change_message("added", _m(), None, NOW)
    assert added.headline == "New milestone: Build"
    assert added.text == "Build was added: 2025 → 2027 (1 Jan 2025 – 31 Dec 2027), due 1 Jan 2028, in 394 days."
    removed = change_message("removed", _m(), _m(), NOW)
    assert removed.text == "Build, planned for 2025 → 2027, is no longer on the timeline; its history is kept."
    done = change_message("status_changed", _m(status="done"), _m(status="in_progress"), NOW)
    assert (done.headline, done.text) == ("Build is now done", "Status changed from in progress to done.")


def test_every_stage_notice_and_change_notice_carries_its_message() -> None:
    m = _m(point("2027-Q2"))
    for stage in [s for s, _ in zip(stages(m), range(4), strict=False)]:
        payload = stage_notice(m, stage, stage.start, BASE).payload()
        carried = message_of(payload)
        assert carried == stage_message(m, stage.type, stage.start, BASE)
        assert payload["data"]["window"]["due_at"] == "2027-07-01T00:00:00Z"  # machine fields stay
    notice = change_notice(Change("rescheduled", _m(span("2025", "2028-H1")), _m()), 7, NOW, BASE)
    assert notice is not None
    assert notice.data["slip_days"] == 182 and notice.data["direction"] == "later"
    assert notice.data["message"]["text"] == "End moved from 2027 to 2028-H1 (+182 days)."
    assert notice.data["summary"] == "rescheduled build: end moved from 2027 to 2028-H1 (+182 days)"


def test_feed_messages() -> None:
    item = item_message(
        title="Ground broken in Texas",
        link="https://news.example.org/a",
        summary="",
        feed_name="DC news",
        published=datetime(2026, 12, 3, 6, tzinfo=UTC),
        terms=["anthropic", "data centre"],
        milestones=["build"],
        update=True,
    )
    assert (item.headline, item.link) == ("Ground broken in Texas", "https://news.example.org/a")
    assert item.text == "Updated: An article in DC news matched what you watch."
    assert dict(item.facts) == {
        "Feed": "DC news",
        "Published": "3 Dec 2026, 06:00 UTC",
        "Matched": "“anthropic”, “data centre”",
        "Milestones": "build",
    }
    since = NOW - timedelta(hours=26)
    failing = failing_message("DC news", "https://news.example.org/f.xml", since, 9, "HTTP 503")
    assert failing.text == "DC news has failed 9 times in a row since 2 Dec 2026, 07:00 UTC."
    assert dict(failing.facts)["Last error"] == "HTTP 503"
    assert (
        recovered_message("DC news", "https://x.org/f", since, NOW).text
        == "DC news works again after failing for 1 day."
    )


def test_alerts_words_its_own_notices() -> None:
    disabled = own_message(
        "subscription.disabled",
        {
            "subscription_id": "ops",
            "host": "hooks.slack.com",
            "reason": "failing without a success since 2026-11-28T09:00:00+00:00",
        },
    )
    assert disabled.headline == "Webhook ops disabled"
    assert dict(disabled.facts)["Reason"] == "failing without a success since 28 Nov 2026, 09:00 UTC"
    ping = message_of({"type": "test.ping", "data": {"subscription_id": "ops"}})
    assert ping.headline == "Test notice: this webhook works"
    assert own_message("subscription.disabled", {"reason": 5}).text.startswith(
        "Deliveries to its receiver have stopped"
    )


@pytest.mark.parametrize(
    ("delta", "words"),
    [(timedelta(seconds=5), "1 minute"), (timedelta(hours=3), "3 hours"), (timedelta(days=2, hours=5), "2 days")],
)
def test_durations_in_words(delta: timedelta, words: str) -> None:
    assert humanize.duration(delta) == words


@given(st.sampled_from(["UTC", "America/Chicago", "Europe/Berlin", "Australia/Lord_Howe"]), st.integers(2000, 2100))
def test_quarter_to_next_quarter_slips_are_whole_calendar_days(zone: str, year: int) -> None:
    ends = [date(year, 4, 1), date(year, 7, 1), date(year, 10, 1), date(year + 1, 1, 1)]
    for q in range(1, 4):
        before, after = point(f"{year}-Q{q}", zone), point(f"{year}-Q{q + 1}", zone)
        assert slip_days(before, after) == (ends[q] - ends[q - 1]).days
        assert slip_days(after, before) == -slip_days(before, after)
