"""A wall clock stepped back: stored due times keep their delays instead of waiting for the old
wall time to come again (feeds' next polls, retries and leases), on SQLite and PostgreSQL; and the
scheduler notices the step by comparing the wall clock with the monotonic one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from alerts.clocksteps import DELIVERIES
from alerts.config import AlertsConfig
from alerts.outbox import fan_out
from tests.alerts.helpers import notice, publish_many, subscribe
from tests.feeds.builders import spec
from timeline.clocksteps import Rebased, rebase
from timeline.feeds.store import FEEDS, sync_feeds
from timeline.jobclock import STEP_TOLERANCE, ClockReading, wall_step
from timeline.scheduler import Scheduler
from timeline.service import Service
from timeline.settings import load_settings

T = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
BACK = T - timedelta(hours=1)


def _feeds(engine: Engine) -> None:
    with engine.begin() as conn:
        sync_feeds(conn, [spec("polled", "http://127.0.0.1:9/a"), spec("new", "http://127.0.0.1:9/b")], T)
        sync_feeds(
            conn,
            [
                spec("polled", "http://127.0.0.1:9/a"),
                spec("new", "http://127.0.0.1:9/b"),
                spec("old", "http://127.0.0.1:9/c"),
            ],
            T - timedelta(hours=3),
        )
        conn.execute(
            update(FEEDS)
            .where(FEEDS.c.id == "polled")
            .values(last_polled_at=T, next_poll_at=T + timedelta(minutes=15), updated_at=T)
        )
        conn.execute(
            update(FEEDS)
            .where(FEEDS.c.id == "old")
            .values(
                last_polled_at=T - timedelta(hours=3),
                next_poll_at=T - timedelta(hours=2),
                updated_at=T - timedelta(hours=3),
            )
        )


def _feed(engine: Engine, feed_id: str) -> tuple[datetime, datetime | None]:
    with engine.connect() as conn:
        row = conn.execute(select(FEEDS.c.next_poll_at, FEEDS.c.last_polled_at).where(FEEDS.c.id == feed_id)).one()
    return row.next_poll_at, row.last_polled_at


def _deliveries(engine: Engine) -> list[int]:
    subscribe(engine, AlertsConfig(allow_private=True), T, "http://127.0.0.1:9/hook")
    publish_many(engine, [notice(f"n{i}", T) for i in range(3)], T)
    with engine.begin() as conn:
        fan_out(conn, T)
        ids = [row.id for row in conn.execute(select(DELIVERIES.c.id).order_by(DELIVERIES.c.id))]
        d = DELIVERIES.c
        conn.execute(
            update(DELIVERIES).where(d.id == ids[0]).values(next_attempt_at=T + timedelta(seconds=30), updated_at=T)
        )
        conn.execute(
            update(DELIVERIES)
            .where(d.id == ids[1])
            .values(status="in_flight", claimed_by="w1", lease_until=T + timedelta(seconds=60), updated_at=T)
        )
        conn.execute(update(DELIVERIES).where(d.id == ids[2]).values(status="delivered", updated_at=T, delivered_at=T))
    return ids


def test_a_step_back_keeps_every_delay_counted_from_the_new_now(engine: Engine) -> None:
    _feeds(engine)
    retry, leased, delivered = _deliveries(engine)

    assert rebase(engine, BACK) == Rebased(feeds=2, deliveries=2)

    assert _feed(engine, "polled") == (BACK + timedelta(minutes=15), BACK)
    assert _feed(engine, "new") == (BACK, None)
    assert _feed(engine, "old") == (T - timedelta(hours=2), T - timedelta(hours=3))
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(DELIVERIES))}
    assert (rows[retry].status, rows[retry].next_attempt_at, rows[retry].updated_at) == (
        "pending",
        BACK + timedelta(seconds=30),
        BACK,
    )
    assert (rows[leased].status, rows[leased].lease_until) == ("in_flight", BACK + timedelta(seconds=60))
    assert (rows[delivered].status, rows[delivered].updated_at) == ("delivered", T)

    assert rebase(engine, BACK) == Rebased(feeds=0, deliveries=0), "a second worker finds nothing left to move"


def test_the_scheduler_rebases_when_the_wall_clock_steps_back(sqlite_engine: Engine, milestones_config: Path) -> None:
    _feeds(sqlite_engine)
    clocks = {"wall": T.timestamp(), "mono": 1000.0}
    settings = load_settings(config_dir=milestones_config, database_url=str(sqlite_engine.url))
    scheduler = Scheduler(
        Service(settings, engine=sqlite_engine), clock=lambda: clocks["mono"], wall=lambda: clocks["wall"]
    )

    clocks["mono"] += 5
    clocks["wall"] += 5 + STEP_TOLERANCE / 2
    assert scheduler.check_clock() == 0.0, "drift within the tolerance is no step"
    assert _feed(sqlite_engine, "polled")[0] == T + timedelta(minutes=15)

    clocks["mono"] += 5
    clocks["wall"] += 5 - 3600
    assert scheduler.check_clock() == -3600
    # The service read its own wall clock (the real one, long before T): every row stamped T moved.
    next_poll, polled = _feed(sqlite_engine, "polled")
    assert polled is not None and polled < T
    assert next_poll - polled == timedelta(minutes=15)

    clocks["mono"] += 5
    clocks["wall"] += 5 + 86400
    assert scheduler.check_clock() == 86400, "a step forward is reported, and needs no rebase"


readings = st.floats(min_value=0, max_value=4e9, allow_nan=False)
moves = st.floats(min_value=0, max_value=1e6, allow_nan=False)
steps = st.floats(min_value=-1e8, max_value=1e8, allow_nan=False)


@given(readings, readings, moves, steps)
def test_a_step_is_the_wall_clock_moving_apart_from_the_monotonic_one(
    wall: float, mono: float, moved: float, step: float
) -> None:
    before = ClockReading(wall, mono)
    after = ClockReading(wall + moved + step, mono + moved)
    found = wall_step(before, after)
    if abs(step) > STEP_TOLERANCE + 1e-3:
        assert abs(found - step) < 1e-3 * max(1.0, abs(step)) + 1e-3
    elif abs(step) < STEP_TOLERANCE - 1e-3:
        assert found == 0.0
