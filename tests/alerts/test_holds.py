"""What holds a new delivery back: silences and quiet hours (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from alerts.holds import hold, quiet_hours
from alerts.quiet import QuietHours
from alerts.silences import Silence

NOW = datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 23:30 in Paris
MUTE = Silence("sil_1", "google-iowa", None, "*", NOW, NOW + timedelta(days=1), "renegotiated", NOW)


def pairs() -> list[tuple[str, str]]:
    return [("google-iowa", "sub_a"), ("anthropic-us", "sub_a"), ("anthropic-us", "sub_night")]


def test_silenced_quiet_and_due_now() -> None:
    quiet = quiet_hours({"sub_night": "22:00-07:00 Europe/Paris", "sub_a": None, "sub_bad": "nonsense"})
    assert quiet == {"sub_night": QuietHours(time(22), time(7), "Europe/Paris")}
    held = hold(pairs(), lambda p: ("milestone.due", (), (p[0],)), lambda p: p[1], [MUTE], quiet, NOW)
    assert held.now == [("anthropic-us", "sub_a")]
    assert held.later == [(("anthropic-us", "sub_night"), datetime(2026, 6, 11, 5, 0, tzinfo=UTC))]
    assert held.silenced == [(("google-iowa", "sub_a"), "silenced by sil_1 until 2026-06-11 21:30 UTC: renegotiated")]


def test_nothing_holds_outside_quiet_hours_and_silences() -> None:
    quiet = quiet_hours({"sub_night": "22:00-07:00 Europe/Paris"})
    noon = NOW.replace(hour=10)
    held = hold(pairs(), lambda p: ("milestone.due", (), (p[0],)), lambda p: p[1], [], quiet, noon)
    assert (held.now, held.later, held.silenced, held.collected) == (pairs(), [], [], [])


def test_a_digest_subscription_collects_all_but_its_digests() -> None:
    def notice_of(pair: tuple[str, str]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        return ("digest" if pair[0] == "d" else "milestone.due", (), (pair[0],))

    both = [("anthropic-us", "sub_a"), ("d", "sub_a"), ("anthropic-us", "sub_b")]
    held = hold(both, notice_of, lambda p: p[1], [], {}, NOW, digesting={"sub_a"})
    assert held.collected == [("anthropic-us", "sub_a")]
    assert held.now == [("d", "sub_a"), ("anthropic-us", "sub_b")]
