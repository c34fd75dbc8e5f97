"""Outages around the workers: a receiver that refuses then fails then recovers (scenario c), a
PostgreSQL restart in the middle of a run (scenario d), SIGTERM in the middle of a delivery batch
(scenario e). Nobody steps in: the workers carry on by themselves, and nothing is lost."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func, select

from alerts.outbox import DELIVERIES
from tests.reliability.conftest import (
    Scenario,
    Workers,
    check_outcome,
    counts,
    expected_done,
    pg_ready,
    report,
    restart_postgres,
    wait_for,
)

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]
Make = Callable[..., tuple[Scenario, Workers]]


def _deliveries(engine: Engine, *where: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(DELIVERIES).where(*where)).scalar_one())


def _all_notices(engine: Engine, scenario: Scenario) -> bool:
    c = counts(engine)
    return c.get("milestone.due", 0) == scenario.milestones and c.get("feed.item_matched", 0) == scenario.items


@pytest.mark.timeout(90)
def test_a_receiver_that_refuses_then_fails_then_recovers_gets_everything(make: Make, db: Engine) -> None:
    # Seven attempts over 16 s (+-20 % jitter): the outage below lasts a few seconds of it.
    schedule = "1s,2s,2s,3s,4s,4s"
    scenario, workers = make(milestones=200, items=40, due_in=3, TIMELINE_RETRY_SCHEDULE=schedule)
    receiver = scenario.receiver
    workers.wait_running(workers.start(2))
    # 1. Nobody listens on the port: every delivery's first attempt is refused.
    wait_for(lambda: _all_notices(db, scenario), 30, "all notices created")
    total = len(scenario.secrets) * sum(v for k, v in counts(db).items() if not k.startswith("d:"))
    wait_for(lambda: _deliveries(db, DELIVERIES.c.attempts >= 1) >= total, 20, "a refused attempt for each")
    assert _deliveries(db, DELIVERIES.c.status == "delivered") == 0
    # 2. The receiver is back but answers 500, until each delivery has been refused that way too.
    receiver.status = 500
    receiver.start()
    wait_for(lambda: len({h.headers["webhook-id"] for h in receiver.hits}) >= total, 20, "a 500 for each")
    # 3. It recovers.
    receiver.status = 200
    recovered = time.monotonic()
    wait_for(expected_done(db, scenario), 30, "everything delivered after the recovery")
    summary = check_outcome(db, scenario)
    assert _deliveries(db, DELIVERIES.c.status == "dead") == 0
    assert summary["max_attempts"] >= 3
    summary["seconds_to_drain_after_recovery"] = round(time.monotonic() - recovered, 1)
    report("refused, 500, recovered", summary)


@pytest.mark.timeout(120)
def test_workers_carry_on_through_a_postgresql_restart(make: Make, db: Engine) -> None:
    scenario, workers = make(milestones=500, items=200, due_in=4)
    scenario.receiver.delay = 0.05  # deliveries last long enough for the restart to land among them
    scenario.receiver.start()
    workers.wait_running(workers.start(3))
    wait_for(lambda: len(scenario.receiver.hits) >= 300, 40, "deliveries under way")
    try:
        restart_postgres()
    finally:
        pg_ready()
    restarted_with = len(scenario.receiver.hits)
    try:
        wait_for(expected_done(db, scenario), 60, "everything delivered after the restart")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {counts(db)}; {workers.errors()[-5:]}") from None
    assert len(workers.alive()) == 3, "a worker died with the database"
    summary = check_outcome(db, scenario)
    summary["received_before_restart"] = restarted_with
    report("PostgreSQL restart", summary)


@pytest.mark.timeout(120)
def test_sigterm_in_a_delivery_batch_exits_cleanly_and_leaves_nothing_stuck(make: Make, db: Engine) -> None:
    scenario, workers = make(milestones=60, items=20, due_in=2, TIMELINE_WEBHOOK_CONCURRENCY="4")
    receiver = scenario.receiver
    receiver.delay = 1.5  # a slow receiver: each request takes 1.5 s of the 3 s timeout
    receiver.start()
    (worker,) = workers.start(1)
    workers.wait_running([worker])
    wait_for(lambda: _all_notices(db, scenario), 30, "all notices created")
    wait_for(lambda: _deliveries(db, DELIVERIES.c.status == "in_flight") >= 8, 20, "a batch in flight")
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    try:
        code = worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"no exit 15 s after SIGTERM:\n{Workers.log(worker)[-2000:]}") from None
    took = time.monotonic() - started
    exited_at = datetime.now(UTC)
    assert code == 0, Workers.log(worker)[-2000:]
    assert took < 10, f"took {took:.1f} s to stop"
    with db.connect() as conn:
        stuck = conn.execute(
            select(DELIVERIES.c.id, DELIVERIES.c.lease_until).where(DELIVERIES.c.status == "in_flight")
        ).all()
    # Finished or released: nothing stays leased to a worker that is gone.
    assert stuck == [], f"{len(stuck)} deliveries left in flight at {exited_at}: {stuck[:3]}"
    # A new worker delivers the rest.
    receiver.delay = 0.0
    workers.wait_running(workers.start(1))
    wait_for(expected_done(db, scenario), 30, "the rest delivered by a new worker")
    summary = check_outcome(db, scenario)
    summary["stop_seconds"] = round(took, 2)
    report("SIGTERM in a batch", summary)
