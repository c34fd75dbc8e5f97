"""Digests with three `timeline worker` processes on PostgreSQL, killed with SIGKILL and restarted
around the digest minute: each subscription still receives exactly one digest for the period,
holding every notice collected before it."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from alerts.notices import NOTICES
from alerts.outbox import DELIVERIES
from tests.reliability.conftest import SUBSCRIBERS, Scenario, Workers, wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]


def _digest_minute() -> datetime:
    """The first whole minute at least 25 s away: the workers have started and collected by then."""
    soon = datetime.now(UTC) + timedelta(seconds=25)
    return soon.replace(second=0, microsecond=0) + timedelta(minutes=1)


@pytest.mark.timeout(150)
def test_kill_9_at_the_digest_minute_still_sends_one_digest_each(
    make: Callable[..., tuple[Scenario, Workers]], db: Engine
) -> None:
    scenario, workers = make(milestones=40, items=8, feed_count=2, due_in=3.0)
    at = _digest_minute()
    path = scenario.folder / "subscriptions.yaml"
    text = path.read_text()
    for name in SUBSCRIBERS:  # both subscribers take a daily digest at that minute (UTC)
        text = text.replace(
            f"    secret_env: RELIABILITY_SECRET_{name.upper()}",
            f"    secret_env: RELIABILITY_SECRET_{name.upper()}\n    digest: daily {at:%H:%M} UTC",
        )
    path.write_text(text)
    scenario.receiver.start()
    workers.wait_running(workers.start(3))

    def collected() -> int:
        with db.connect() as conn:
            d = DELIVERIES.c
            return int(conn.execute(select(func.count()).where(d.status == "collected")).scalar_one())

    wanted = 2 * (scenario.milestones + scenario.items)
    wait_for(lambda: collected() >= wanted, 30, f"{wanted} deliveries collected for the digests")
    assert scenario.receiver.accepted() == []  # nothing goes one by one
    # Kill one worker just before the digest minute and another just after it, restarting each.
    while datetime.now(UTC) < at - timedelta(seconds=0.5):
        time.sleep(0.05)
    workers.kill9(workers.alive()[0])
    workers.start(1)
    while datetime.now(UTC) < at + timedelta(seconds=0.3):
        time.sleep(0.05)
    workers.kill9(workers.alive()[0])
    workers.start(1)

    def digests() -> dict[str, list[dict[str, object]]]:
        found: dict[str, list[dict[str, object]]] = {}
        for hit in scenario.receiver.accepted():
            body = json.loads(hit.body)
            if body["type"] == "digest":
                found.setdefault(hit.path, []).append(body)
        return found

    wait_for(lambda: len(digests()) == len(SUBSCRIBERS), 40, "a digest at each subscriber")
    time.sleep(3)  # long enough for a duplicate to show (delivery tick 1 s)
    got = digests()
    assert sorted(got) == sorted(scenario.subscription_path(name) for name in SUBSCRIBERS)
    for bodies in got.values():
        ids = {b["data"]["period_end"] for b in bodies}  # type: ignore[index]
        assert ids == {at.isoformat().replace("+00:00", "Z")}
        keys = {json.dumps(n, sort_keys=True) for b in bodies for n in b["data"]["notices"]}  # type: ignore[index]
        types = Counter(json.loads(k)["type"] for k in keys)
        # Under load the first scan may come before a milestone's one-second window opens: its
        # window_opened notice is then in the digest too, as in every other scenario.
        assert set(types) <= {"milestone.due", "milestone.window_opened", "feed.item_matched"}, types
        assert (types["milestone.due"], types["feed.item_matched"]) == (scenario.milestones, scenario.items)
    with db.connect() as conn:
        made = conn.execute(select(func.count()).where(NOTICES.c.type == "digest")).scalar_one()
        left = conn.execute(
            select(func.count())
            .select_from(DELIVERIES.join(NOTICES, NOTICES.c.id == DELIVERIES.c.notice_id))
            .where(DELIVERIES.c.status == "collected", NOTICES.c.created_at < at)
        ).scalar_one()
    assert (made, left) == (len(SUBSCRIBERS), 0)
    repeats = [h for h in scenario.receiver.accepted() if json.loads(h.body)["type"] == "digest"]
    assert len({h.headers["webhook-id"] for h in repeats}) == len(SUBSCRIBERS), "one digest per subscriber"
