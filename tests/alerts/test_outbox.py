"""The outbox on SQLite and PostgreSQL: fan-out filters, atomic claims, leases that come back."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from alerts.config import AlertsConfig, Tuning
from alerts.health import cancel_orphans
from alerts.notices import NOTICES
from alerts.outbox import DELIVERIES, SUBSCRIPTIONS, Lease, claim, fan_out, record
from alerts.policy import AttemptResult
from alerts.statements import ATTEMPTS
from alerts.subscriptions import update_subscription
from tests.alerts.helpers import notice, publish_many, subscribe

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _write(engine: Engine):  # type: ignore[no-untyped-def]
    return engine.execution_options(sqlite_immediate=True).begin()


def _pairs(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(NOTICES.c.key, DELIVERIES.c.subscription_id).join(NOTICES, NOTICES.c.id == DELIVERIES.c.notice_id)
        )
        return {(row.key, row.subscription_id) for row in rows}


def test_fan_out_follows_the_filters(engine: Engine, config: AlertsConfig) -> None:
    url = "https://hooks.example.org/x"
    everything = subscribe(engine, config, NOW, url).subscription.id
    milestones = subscribe(engine, config, NOW, url, events=["milestone.*"]).subscription.id
    tagged = subscribe(engine, config, NOW, url, events=["*"], tags=["anthropic"]).subscription.id
    one = subscribe(engine, config, NOW, url, events=["milestone.due"], subjects=["m2"]).subscription.id
    publish_many(
        engine,
        [
            notice("a", NOW, "milestone.due", tags=["anthropic"], subjects=["m1"]),
            notice("b", NOW, "milestone.upcoming", tags=["google"], subjects=["m2"]),
            notice("c", NOW, "feed.item_matched", tags=["anthropic"]),
            notice("d", NOW, "milestone.due", subjects=["m2"]),
        ],
        NOW,
    )
    with _write(engine) as conn:
        done = fan_out(conn, NOW)
    assert (done.notices, done.deliveries) == (4, 10)
    assert _pairs(engine) == {
        *((key, everything) for key in "abcd"),
        ("a", milestones),
        ("b", milestones),
        ("d", milestones),
        ("a", tagged),
        ("c", tagged),
        ("d", one),
    }
    with _write(engine) as conn:
        assert fan_out(conn, NOW).notices == 0


def test_inactive_subscriptions_get_nothing(engine: Engine, config: AlertsConfig) -> None:
    sub = subscribe(engine, config, NOW, "https://hooks.example.org/x").subscription.id
    with engine.begin() as conn:
        update_subscription(conn, config, sub, {"active": False}, NOW)
    publish_many(engine, [notice("a", NOW)], NOW)
    with _write(engine) as conn:
        assert fan_out(conn, NOW).deliveries == 0


def _statuses(engine: Engine) -> dict[int, tuple[str, str | None, datetime | None]]:
    d = DELIVERIES.c
    with engine.connect() as conn:
        rows = conn.execute(select(d.id, d.status, d.claimed_by, d.lease_until))
        return {row.id: (row.status, row.claimed_by, row.lease_until) for row in rows}


def test_a_fan_out_with_a_lease_takes_what_its_worker_has_room_for(engine: Engine, config: AlertsConfig) -> None:
    narrow = subscribe(engine, config, NOW, "https://hooks.example.org/narrow").subscription.id
    wide = subscribe(engine, config, NOW, "https://hooks.example.org/wide", concurrency=7, timeout_seconds=2.5)
    publish_many(engine, [notice(f"n{i}", NOW) for i in range(4)], NOW)
    asked: list[tuple[str, int | None, float | None]] = []

    def room_for(subscription_id: str, concurrency: int | None, timeout: float | None) -> int:
        asked.append((subscription_id, concurrency, timeout))
        return 2 if subscription_id == narrow else 100

    with _write(engine) as conn:
        done = fan_out(conn, NOW, lease=Lease("w1", NOW + LEASE, 5, room_for))
    # Notice by notice, each for both: the narrow one's room is full after two notices, then 5 in all.
    assert (done.notices, done.deliveries, len(done.taken)) == (4, 8, 5)
    assert sorted(asked) == sorted([(narrow, None, None), (wide.subscription.id, 7, 2.5)])
    assert sum(c.subscription_id == narrow for c in done.taken) == 2
    rows = _statuses(engine)
    assert {rows[c.id] for c in done.taken} == {("in_flight", "w1", NOW + LEASE)}
    assert sorted(rows[i] for i in set(rows) - {c.id for c in done.taken}) == [("pending", None, None)] * 3
    with engine.connect() as conn:
        stored = {row.id: row for row in conn.execute(select(DELIVERIES))}
        payloads = dict(conn.execute(select(NOTICES.c.id, NOTICES.c.payload)).all())
    for taken in done.taken:
        assert taken.webhook_id == stored[taken.id].webhook_id
        assert taken.subscription_id == stored[taken.id].subscription_id
        assert json.loads(taken.payload_json) == payloads[stored[taken.id].notice_id]
        assert taken.notice_type == "milestone.due"
        assert taken.attempts == 0
        if taken.subscription_id == wide.subscription.id:
            assert (taken.url, taken.keys) == ("https://hooks.example.org/wide", (wide.secret,))
    with _write(engine) as conn:
        assert len(claim(conn, "w2", NOW, 100, LEASE)) == 3


def test_what_a_fan_out_leased_comes_back_when_its_worker_is_gone(engine: Engine, config: AlertsConfig) -> None:
    subscribe(engine, config, NOW, "https://hooks.example.org/x")
    publish_many(engine, [notice(f"n{i}", NOW) for i in range(3)], NOW)
    with _write(engine) as conn:
        leased = fan_out(conn, NOW, lease=Lease("dead-worker", NOW + LEASE, 100, lambda *_: 100)).taken
    assert len(leased) == 3
    with _write(engine) as conn:
        assert claim(conn, "w2", NOW + LEASE - timedelta(seconds=1), 100, LEASE) == []
    with _write(engine) as conn:
        again = claim(conn, "w2", NOW + LEASE, 100, LEASE)
    assert sorted((c.id, c.webhook_id) for c in again) == sorted((c.id, c.webhook_id) for c in leased)


def test_a_fan_out_leases_no_delivery_that_existed_already(engine: Engine, config: AlertsConfig) -> None:
    subscribe(engine, config, NOW, "https://hooks.example.org/x")
    publish_many(engine, [notice("a", NOW)], NOW)
    with _write(engine) as conn:
        fan_out(conn, NOW)
        conn.execute(update(NOTICES).values(fanned_out_at=None))
    with _write(engine) as conn:
        again = fan_out(conn, NOW, lease=Lease("w1", NOW + LEASE, 100, lambda *_: 100))
    assert (again.notices, again.deliveries, again.taken) == (1, 0, [])
    assert list(_statuses(engine).values()) == [("pending", None, None)]


def _backlog(engine: Engine, config: AlertsConfig, count: int) -> str:
    sub = subscribe(engine, config, NOW, "https://hooks.example.org/x").subscription.id
    publish_many(engine, [notice(f"n{i}", NOW) for i in range(count)], NOW)
    with _write(engine) as conn:
        fan_out(conn, NOW)
    return sub


def test_pending_rows_of_a_subscription_made_inactive_meanwhile_are_cancelled(
    engine: Engine, config: AlertsConfig
) -> None:
    """On PostgreSQL a fan-out can commit rows for a subscription deleted while it ran (the delete's
    cancelling could not see them): the sweep cancels them instead of leaving them pending for good."""
    gone = subscribe(engine, config, NOW, "https://hooks.example.org/gone").subscription.id
    long_gone = subscribe(engine, config, NOW, "https://hooks.example.org/long-gone").subscription.id
    kept = subscribe(engine, config, NOW, "https://hooks.example.org/kept").subscription.id
    publish_many(engine, [notice(f"n{i}", NOW) for i in range(3)], NOW)
    with _write(engine) as conn:
        fan_out(conn, NOW)
        # As a racing delete leaves them: inactive, but their new rows still pending.
        for sub, at in ((gone, NOW), (long_gone, NOW - Tuning().orphan_window - timedelta(minutes=1))):
            inactive = {"active": False, "disabled_reason": "deleted", "disabled_at": at}
            conn.execute(update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == sub).values(**inactive))
    with _write(engine) as conn:
        assert cancel_orphans(conn, NOW + timedelta(seconds=5), config) == 3
    d = DELIVERIES.c
    with engine.connect() as conn:
        rows = conn.execute(select(d.subscription_id, d.status, d.last_error)).all()
    assert sorted({(r.subscription_id, r.status, r.last_error) for r in rows}) == sorted(
        [(gone, "cancelled", "subscription inactive: deleted"), (long_gone, "pending", None), (kept, "pending", None)]
    )


def test_two_concurrent_claimers_never_claim_the_same_row(engine: Engine, config: AlertsConfig) -> None:
    _backlog(engine, config, 300)
    claimed: dict[str, list[int]] = {"w1": [], "w2": []}
    start = threading.Barrier(2)

    def work(worker: str) -> None:
        start.wait()
        while True:
            with _write(engine) as conn:
                batch = claim(conn, worker, NOW, 7, LEASE)
            if not batch:
                return
            claimed[worker].extend(c.id for c in batch)

    threads = [threading.Thread(target=work, args=(w,)) for w in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    one, two = claimed["w1"], claimed["w2"]
    assert len(one) + len(two) == 300
    assert not set(one) & set(two)
    assert len(set(one)) == len(one)


def test_concurrent_fan_outs_make_each_delivery_once(engine: Engine, config: AlertsConfig) -> None:
    subscribe(engine, config, NOW, "https://hooks.example.org/x")
    publish_many(engine, [notice(f"n{i}", NOW) for i in range(200)], NOW)
    counts: list[int] = []
    start = threading.Barrier(3)

    def work() -> None:
        start.wait()
        while True:
            with _write(engine) as conn:
                done = fan_out(conn, NOW, limit=9)
            counts.append(done.notices)
            if not done.notices:
                return

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(counts) == 200
    assert len(_pairs(engine)) == 200


def test_a_lease_comes_back_only_when_it_expires(engine: Engine, config: AlertsConfig) -> None:
    _backlog(engine, config, 5)
    with _write(engine) as conn:
        first = claim(conn, "dead-worker", NOW, 100, LEASE)
    assert len(first) == 5
    with _write(engine) as conn:
        assert claim(conn, "w2", NOW + LEASE - timedelta(seconds=1), 100, LEASE) == []
    with _write(engine) as conn:
        again = claim(conn, "w2", NOW + LEASE, 100, LEASE)
    assert sorted(c.id for c in again) == sorted(c.id for c in first)
    assert {c.webhook_id for c in again} == {c.webhook_id for c in first}


def test_a_worker_that_lost_its_lease_cannot_overwrite(engine: Engine, config: AlertsConfig) -> None:
    _backlog(engine, config, 1)
    with _write(engine) as conn:
        (slow,) = claim(conn, "slow", NOW, 1, LEASE)
    later = NOW + LEASE
    with _write(engine) as conn:
        (fast,) = claim(conn, "fast", later, 1, LEASE)
    with _write(engine) as conn:
        record(conn, "slow", later, [(slow, AttemptResult(500, 1))], config, random.Random(0))
    with engine.connect() as conn:
        row = conn.execute(select(DELIVERIES).where(DELIVERIES.c.id == fast.id)).one()
    assert (row.status, row.claimed_by, row.attempts) == ("in_flight", "fast", 0)
    with _write(engine) as conn:
        record(conn, "fast", later, [(fast, AttemptResult(200, 1))], config, random.Random(0))
    with engine.connect() as conn:
        row = conn.execute(select(DELIVERIES).where(DELIVERIES.c.id == fast.id)).one()
    assert (row.status, row.attempts, row.delivered_at) == ("delivered", 1, later)


def test_claims_skip_deliveries_not_yet_due(engine: Engine, config: AlertsConfig) -> None:
    _backlog(engine, config, 1)
    with _write(engine) as conn:
        (one,) = claim(conn, "w", NOW, 1, LEASE)
        record(conn, "w", NOW, [(one, AttemptResult(500, 1))], config, random.Random(0))
    with _write(engine) as conn:
        assert claim(conn, "w", NOW + timedelta(seconds=3), 1, LEASE) == []
    with _write(engine) as conn:
        (again,) = claim(conn, "w", NOW + timedelta(seconds=7), 1, LEASE)
    assert again.attempts == 1


def test_a_healthy_subscription_records_its_last_success_coarsely(engine: Engine, config: AlertsConfig) -> None:
    """Successes rewrite the shared subscription row at most every `tuning.success_write_every`; a failure,
    and the success that ends it, are written at once."""
    sub = _backlog(engine, config, 5)

    def attempt(at: datetime, status: int) -> tuple[datetime | None, datetime | None]:
        with _write(engine) as conn:
            (one,) = claim(conn, "w", at, 1, LEASE)
            record(conn, "w", at, [(one, AttemptResult(status, 1))], config, random.Random(0))
        with engine.connect() as conn:
            row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == sub)).one()
        return row.last_success_at, row.failing_since

    assert attempt(NOW, 200) == (NOW, None)
    assert attempt(NOW + timedelta(seconds=10), 200) == (NOW, None)
    late = NOW + config.tuning.success_write_every + timedelta(seconds=1)
    assert attempt(late, 200) == (late, None)
    failed = late + timedelta(seconds=1)
    assert attempt(failed, 500) == (late, failed)
    back = failed + timedelta(seconds=8)
    assert attempt(back, 200) == (back, None)


def test_an_outcome_that_cannot_be_written_is_a_failed_attempt_and_the_others_are_written(
    engine: Engine, config: AlertsConfig
) -> None:
    """Each member of a batch has its own error boundary: a status code no column can hold breaks
    the batch's statements, so the outcomes are written one by one and that one becomes a failed
    attempt saying why (retried on the schedule); the delivered ones are delivered."""
    _backlog(engine, config, 3)
    with _write(engine) as conn:
        first, second, third = claim(conn, "w", NOW, 10, LEASE)
        outcomes = [
            (first, AttemptResult(200, 1.0)),
            (second, AttemptResult(2**70, 1.0)),
            (third, AttemptResult(204, 2.0)),
        ]
        recorded = record(conn, "w", NOW, outcomes, config, random.Random(0))
    assert (recorded.delivered, recorded.retrying, recorded.dead) == (2, 1, 0)
    d = DELIVERIES.c
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(d.id, d.status, d.attempts, d.last_error, d.next_attempt_at))}
        attempts = conn.execute(select(ATTEMPTS.c.delivery_id, ATTEMPTS.c.error)).all()
    assert (rows[first.id].status, rows[third.id].status) == ("delivered", "delivered")
    broken = rows[second.id]
    assert (broken.status, broken.attempts) == ("pending", 1)
    assert broken.last_error is not None and "could not be recorded" in broken.last_error
    assert broken.next_attempt_at == NOW + config.retry_schedule[0]
    assert sorted(a.delivery_id for a in attempts) == sorted([first.id, second.id, third.id])
    assert [a.error for a in attempts if a.delivery_id == second.id] == [broken.last_error]
