"""Several `timeline worker` processes on one PostgreSQL database share the work: each notice is
created once, each delivery arrives, a repeat keeps its webhook-id (scenario a); the same while
workers are killed with SIGKILL and restarted (scenario b)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from tests.reliability.conftest import (
    Scenario,
    Workers,
    check_outcome,
    counts,
    expected_done,
    report,
    wait_for,
)

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]


@pytest.mark.timeout(90)
def test_three_workers_share_the_work(make: Callable[..., tuple[Scenario, Workers]], db: Engine) -> None:
    scenario, workers = make(milestones=500, items=200)
    scenario.receiver.start()
    procs = workers.start(3)  # on an empty database: they migrate and sync at the same time
    workers.wait_running(procs)
    try:
        wait_for(expected_done(db, scenario), 60, "everything delivered")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {counts(db)}; worker errors: {workers.errors()[:5]}") from None
    assert len(workers.alive()) == 3, workers.errors()
    summary = check_outcome(db, scenario)
    assert not workers.errors(), workers.errors()[:5]
    report("3 workers", summary)


@pytest.mark.timeout(120)
def test_workers_killed_and_restarted_lose_nothing(make: Callable[..., tuple[Scenario, Workers]], db: Engine) -> None:
    scenario, workers = make(milestones=500, items=200)
    scenario.receiver.start()
    # A slower receiver keeps deliveries in flight, so that kills land in the middle of batches.
    scenario.receiver.delay = 0.05
    workers.wait_running(workers.start(3))
    # Kills begin once the feeds' first poll is stored: a worker killed in the middle of a poll holds
    # its feeds for the feed claim lease (timeline.feeds.store.LEASE, 15 min), far past this test;
    # they would be polled then, not lost. Scans, fan-out and deliveries are killed at random.
    wait_for(lambda: counts(db).get("feed.item_matched", 0) == scenario.items, 30, "feeds polled")
    rng = random.Random()
    kills = 0
    done = expected_done(db, scenario)
    deadline = time.monotonic() + 90
    next_kill = time.monotonic() + rng.uniform(0.2, 1.0)
    while not done():
        assert time.monotonic() < deadline, f"not everything delivered after {kills} kills: {counts(db)}"
        if time.monotonic() >= next_kill and kills < 12:
            victim = rng.choice(workers.alive())
            workers.kill9(victim)
            kills += 1
            workers.start(1)  # restarted at once, as a process supervisor would
            next_kill = time.monotonic() + rng.uniform(1.5, 3.0)
        time.sleep(0.1)
    summary = check_outcome(db, scenario)
    summary["kills"] = kills
    report("kill -9 every few seconds", summary)
    assert kills >= 3, "the run ended before the kills could test anything"
