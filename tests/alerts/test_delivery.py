"""Deliveries end to end against a real receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import Engine, func, select, text, update
from standardwebhooks.webhooks import Webhook

from alerts.channels import Channels
from alerts.channels.webhook import USER_AGENT
from alerts.config import AlertsConfig, Tuning
from alerts.delivery_loop import DeliveryLoop, DeliveryStats
from alerts.notices import NOTICES
from alerts.outbox import DELIVERIES, SUBSCRIPTIONS, fan_out
from alerts.outbox_reads import get_delivery, list_deliveries, recover, retry_delivery
from alerts.policy import AttemptResult
from alerts.sending import deliver_once, run_deliveries, send_test
from alerts.sqltypes import utcnow
from alerts.statements import Claimed
from alerts.subscriptions import get_subscription, rotate_secret
from tests.alerts.helpers import notice, publish_many, statuses, subscribe
from tests.alerts.receiver import Receiver, Reply


def _run(engine: Engine, config: AlertsConfig, now: datetime | None = None, worker: str = "w1"):  # type: ignore[no-untyped-def]
    return asyncio.run(run_deliveries(engine, config, now or utcnow(), worker))


def test_a_standard_delivery_is_signed_compact_json(engine: Engine, config: AlertsConfig, receiver: Receiver) -> None:
    now = utcnow()
    sub = subscribe(engine, config, now, receiver.url())
    publish_many(engine, [notice("a", now, tags=["x"])], now)
    stats = deliver_once(engine, config, now, "w1")
    assert (stats.notices, stats.created, stats.delivered) == (1, 1, 1)
    (got,) = receiver.received
    payload = Webhook(sub.secret).verify(got.body, got.headers)
    with engine.connect() as conn:
        stored = conn.execute(select(NOTICES.c.payload)).scalar_one()
    assert payload == stored
    assert got.body == json.dumps(stored, separators=(",", ":"), ensure_ascii=False)
    assert "café" in got.body
    assert got.headers["webhook-id"].startswith("msg_")
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"] == USER_AGENT
    with engine.connect() as conn:
        (delivery,) = list_deliveries(conn)
        detail = get_delivery(conn, delivery.id)
        view = get_subscription(conn, sub.subscription.id)
    assert delivery.status == "delivered" and delivery.webhook_id == got.headers["webhook-id"]
    assert detail.attempts[0].status_code == 200 and detail.attempts[0].response_excerpt == "ok"
    assert view.last_success_at is not None and view.failing_since is None


def test_a_delivery_pass_collects_only_its_own_garbage(
    sqlite_engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """The heap that existed before the pass is set aside while it runs (see alerts.gc_freeze)."""
    now = utcnow()
    subscribe(sqlite_engine, config, now, receiver.url())
    publish_many(sqlite_engine, [notice("a", now)], now)
    receiver.watch_heap = True
    assert gc.get_freeze_count() == 0
    assert _run(sqlite_engine, config, now).delivered == 1
    assert [r.heap_frozen for r in receiver.received] == [True]
    assert gc.get_freeze_count() == 0


def test_a_burst_goes_out_from_its_first_fan_out_batch(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """Notices are fanned out a batch at a time, the next batch only when the claims run short:
    the first requests are on their way before the last notices are fanned out."""
    config = dataclasses.replace(config, tuning=Tuning(fan_out_batch=5))
    now = utcnow()
    subscribe(engine, config, now, receiver.url())
    publish_many(engine, [notice(f"n{i}", now) for i in range(100)], now)
    waiting: list[int] = []

    def count_waiting(_: object) -> None:
        with engine.connect() as conn:
            waiting.append(conn.execute(select(func.count()).where(NOTICES.c.fanned_out_at.is_(None))).scalar_one())

    receiver.on_request = count_waiting
    stats = _run(engine, config, now)
    assert (stats.notices, stats.created, stats.delivered) == (100, 100, 100)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 100
    assert waiting[0] > 0


@pytest.mark.parametrize(("notices", "max_in_flight"), [(20, 200), (60, 10)])
def test_new_deliveries_are_leased_in_the_fan_out_that_makes_them(
    engine: Engine, receiver: Receiver, notices: int, max_in_flight: int
) -> None:
    """The fan-out leases what it creates, and makes no more than the worker has room for (a
    burst larger than the room included): each is sent once."""
    config = AlertsConfig(allow_private=True, timeout=timedelta(seconds=3), batch_size=10, max_in_flight=max_in_flight)
    now = utcnow()
    subscribe(engine, config, now, receiver.url(), concurrency=50)
    publish_many(engine, [notice(f"n{i}", now) for i in range(notices)], now)
    stats = _run(engine, config, now)
    assert (stats.created, stats.claimed, stats.delivered) == (notices, notices, notices)
    assert len({r.headers["webhook-id"] for r in receiver.received}) == len(receiver.received) == notices


def test_deliveries_already_due_go_before_new_notices(engine: Engine, receiver: Receiver) -> None:
    one_at_a_time = AlertsConfig(allow_private=True, timeout=timedelta(seconds=3), batch_size=1, max_in_flight=1)
    now = utcnow()
    subscribe(engine, one_at_a_time, now, receiver.url())
    publish_many(engine, [notice("older", now)], now)
    with engine.begin() as conn:
        fan_out(conn, now)
    publish_many(engine, [notice("newer", now)], now)
    assert _run(engine, one_at_a_time, now).delivered == 2
    titles = [json.loads(r.body)["data"]["title"] for r in receiver.received]
    assert titles == ["Notice older: café", "Notice newer: café"]


@pytest.mark.parametrize(("held", "leased"), [(0, 1), (2, 0)])
def test_a_fan_out_leases_within_the_subscriptions_cap(
    engine: Engine, config: AlertsConfig, held: int, leased: int
) -> None:
    """A 30 s lease and a 3 s timeout allow 2 rounds of a subscription's concurrency (2 here): a cap
    of 4, less what the worker holds already and what the claim before the fan-out took (3)."""
    now = utcnow()
    sub = subscribe(engine, config, now, "https://hooks.example.org/x", concurrency=2).subscription.id
    publish_many(engine, [notice(f"due-already-{i}", now) for i in range(3)], now)
    with engine.begin() as conn:
        fan_out(conn, now)
    publish_many(engine, [notice(f"n{i}", now) for i in range(20)], now)
    work = DeliveryLoop(engine, config, now, "w1", Channels(config), random.Random(0))
    work.held[sub] = held
    taken = asyncio.run(work._claim(10, set(), reclaim=True))
    assert len(taken) == 3 + leased
    # The fan-out took as many notices as the claim left room for (7 of the 20).
    assert _delivery_statuses(engine) == {"in_flight": 3 + leased, "pending": 7 - leased}


def test_notices_nobody_wants_do_not_end_the_pass_early(engine: Engine, receiver: Receiver) -> None:
    """A fan-out batch that makes no delivery still means more notices may wait."""
    config = AlertsConfig(allow_private=True, timeout=timedelta(seconds=3), batch_size=5)
    now = utcnow()
    subscribe(engine, config, now, receiver.url(), events=["milestone.due"])
    publish_many(engine, [notice(f"x{i}", now, "feed.item_matched") for i in range(12)], now)
    publish_many(engine, [notice("wanted", now)], now)
    stats = _run(engine, config, now)
    assert (stats.notices, stats.delivered) == (13, 1)


def test_the_leases_of_deliveries_still_waiting_are_renewed(engine: Engine, receiver: Receiver) -> None:
    """A queue behind a slow receiver can outlast the lease it was claimed with (12 requests of
    0.25 s, one at a time, against a 2 s lease): while the worker lives it renews what it holds,
    so no lease runs out and no other worker could take a delivery over and send it again."""
    quick = AlertsConfig(allow_private=True, timeout=timedelta(seconds=1), lease=timedelta(seconds=2))
    receiver.reply("/hook", Reply(delay=0.25))
    now = utcnow()
    subscribe(engine, quick, now, receiver.url(), concurrency=1)
    publish_many(engine, [notice(f"n{i}", now) for i in range(12)], now)
    expired: list[int] = []

    def count_expired(_: object) -> None:
        d = DELIVERIES.c
        with engine.connect() as conn:
            query = select(func.count()).where(d.status == "in_flight", d.lease_until <= utcnow())
            expired.append(conn.execute(query).scalar_one())

    receiver.on_request = count_expired
    assert _run(engine, quick, now).delivered == 12
    assert len(expired) == 12 and max(expired) == 0


def test_stopping_finishes_what_is_in_flight_and_releases_the_queue(engine: Engine, receiver: Receiver) -> None:
    """A stop during a pass: the request in flight is answered and recorded; the ones queued behind
    it (concurrency 1) are not started, and go back pending for any worker to take at once."""
    config = AlertsConfig(allow_private=True, timeout=timedelta(seconds=3))
    receiver.reply("/hook", Reply(delay=0.2))
    now = utcnow()
    subscribe(engine, config, now, receiver.url(), concurrency=1)
    publish_many(engine, [notice(f"n{i}", now) for i in range(3)], now)
    stop = threading.Event()
    receiver.on_request = lambda _: stop.set()
    stats = asyncio.run(run_deliveries(engine, config, now, "w1", stop=stop))
    assert (stats.claimed, stats.delivered, len(receiver.received)) == (3, 1, 1)
    assert _delivery_statuses(engine) == {"delivered": 1, "pending": 2}
    with engine.connect() as conn:
        released = conn.execute(select(DELIVERIES).where(DELIVERIES.c.status == "pending")).all()
    assert {(d.attempts, d.claimed_by, d.next_attempt_at <= utcnow()) for d in released} == {(0, None, True)}


def test_a_nul_in_what_a_receiver_answers_is_stored_as_a_replacement(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """PostgreSQL refuses NUL in text (the record failed, and the batch stayed in flight to be sent
    again and fail again) and SQLite's JSON functions cut a string at it: it is stored as U+FFFD."""
    receiver.reply("/hook", Reply(body="bad\x00body"))
    now = utcnow()
    subscribe(engine, config, now, receiver.url())
    publish_many(engine, [notice("a", now)], now)
    assert deliver_once(engine, config, now, "w1").delivered == 1
    with engine.connect() as conn:
        (row,) = list_deliveries(conn)
        attempt = get_delivery(conn, row.id).attempts[0]
    assert (row.status, attempt.response_excerpt) == ("delivered", "bad\ufffdbody")


def test_a_delivery_this_worker_holds_is_not_queued_again_when_a_claim_takes_it_back(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """If a worker's own lease runs out while it holds a delivery (its database stalled past a
    renewal), a claim of expired leases takes the row back for it: the delivery is already queued
    or in flight and is sent and recorded once."""
    receiver.reply("/hook", Reply(delay=0.3))
    now = utcnow()
    sub = subscribe(engine, config, now, receiver.url(), concurrency=1).subscription.id
    publish_many(engine, [notice("a", now)], now)

    async def scenario() -> DeliveryStats:
        async with Channels(config) as sender:
            work = DeliveryLoop(engine, config, now, "w1", sender, random.Random(0))
            assert await work._claim_more(10) == 1
            with engine.begin() as conn:
                conn.execute(update(DELIVERIES).values(lease_until=now - timedelta(seconds=1)))
            work.next_reclaim = 0.0
            assert await work._claim_more(10) == 1
            assert (len(work.holding), work.held[sub], len(work.queues[sub]) + len(work.tasks)) == (1, 1, 1)
            return await work.run()

    stats = asyncio.run(scenario())
    assert (stats.claimed, stats.delivered, len(receiver.received)) == (1, 1, 1)
    assert _delivery_statuses(engine) == {"delivered": 1}


def test_a_queued_delivery_is_signed_when_it_leaves(engine: Engine, receiver: Receiver) -> None:
    """Behind a slow receiver a queue can wait minutes, and receivers refuse a stale timestamp:
    the second of two requests sent one at a time (each answered after a second) carries the
    moment it left, not the moment both were claimed."""
    config = AlertsConfig(allow_private=True, timeout=timedelta(seconds=5))
    receiver.reply("/hook", Reply(delay=1.05))
    now = utcnow()
    sub = subscribe(engine, config, now, receiver.url(), concurrency=1)
    publish_many(engine, [notice("a", now), notice("b", now)], now)
    assert _run(engine, config, now).delivered == 2
    first, second = (int(r.headers["webhook-timestamp"]) for r in receiver.received)
    assert second >= first + 1
    for got in receiver.received:
        Webhook(sub.secret).verify(got.body, got.headers)


class _BrokenChannel:
    """A channel with a bug: `send` raises instead of returning a failed attempt."""

    def __init__(self, config: AlertsConfig) -> None:
        self.config = config

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, delivery: Claimed, seconds: int) -> AttemptResult:
        raise RuntimeError("a bug in the sender")


def test_a_sender_that_breaks_fails_the_pass(engine: Engine, config: AlertsConfig) -> None:
    """A failed attempt is a result; an exception out of a sender is a bug, and the pass raises it
    instead of waiting for an outcome that will never come. The delivery stays leased (its lease
    brings it back)."""
    now = utcnow()
    subscribe(engine, config, now, "https://hooks.example.org/x")
    publish_many(engine, [notice("a", now)], now)

    async def broken_pass() -> None:
        async with Channels(config, {"standard": _BrokenChannel}) as channels:
            await run_deliveries(engine, config, now, "w1", channels=channels)

    with pytest.raises(RuntimeError, match="a bug in the sender"):
        asyncio.run(broken_pass())
    assert _delivery_statuses(engine) == {"in_flight": 1}


def test_a_pass_cancels_what_a_racing_fan_out_left_for_an_inactive_subscription(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    now = utcnow()
    gone = subscribe(engine, config, now, receiver.url("/gone")).subscription.id
    publish_many(engine, [notice("a", now)], now)
    with engine.begin() as conn:
        fan_out(conn, now)
        inactive = {"active": False, "disabled_reason": "deleted", "disabled_at": now}
        conn.execute(update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == gone).values(**inactive))
    _run(engine, config, now)
    assert _delivery_statuses(engine) == {"cancelled": 1}
    assert receiver.at("/gone") == []


def test_a_payload_stored_in_another_json_layout_is_sent_as_stored(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """A standard body is the stored text: a notice written by an older version (default
    `json.dumps`: spaces, escaped non-ASCII) goes out exactly so, signed over those bytes."""
    now = utcnow()
    sub = subscribe(engine, config, now, receiver.url())
    publish_many(engine, [notice("a", now, tags=["x"])], now)
    with engine.begin() as conn:
        stored = conn.execute(select(NOTICES.c.payload)).scalar_one()
        spaced = json.dumps(stored)
        as_json = "CAST(:text AS json)" if engine.dialect.name == "postgresql" else ":text"
        conn.execute(text(f"UPDATE notices SET payload = {as_json}"), {"text": spaced})
    assert deliver_once(engine, config, now, "w1").delivered == 1
    (got,) = receiver.received
    assert got.body == spaced and ": " in spaced and "\\u00e9" in spaced
    assert Webhook(sub.secret).verify(got.body, got.headers) == stored


def test_slack_and_discord_get_their_own_bodies(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    now = utcnow()
    subscribe(engine, config, now, receiver.url("/slack"), format="slack")
    subscribe(engine, config, now, receiver.url("/discord"), format="discord")
    publish_many(engine, [notice("a", now)], now)
    _run(engine, config, now)
    slack = json.loads(receiver.at("/slack")[0].body)
    discord = json.loads(receiver.at("/discord")[0].body)
    assert slack["text"] == "Notice a: café"
    assert slack["blocks"][0]["text"]["text"] == "Notice a: café"
    assert discord["embeds"][0]["url"] == "https://example.org/x"
    assert "webhook-signature" not in receiver.at("/slack")[0].headers


def test_after_a_rotation_both_secrets_sign_for_24_hours(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    start = utcnow()
    sub = subscribe(engine, config, start, receiver.url())
    with engine.begin() as conn:
        rotated = rotate_secret(conn, config, sub.subscription.id, start)
    publish_many(engine, [notice("a", start)], start)
    _run(engine, config, start)
    first = receiver.received[-1]
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    Webhook(sub.secret).verify(first.body, first.headers)
    Webhook(rotated.secret).verify(first.body, first.headers)
    with freeze_time(start + timedelta(hours=24, seconds=1), real_asyncio=True):
        publish_many(engine, [notice("b", utcnow())], utcnow())
        _run(engine, config)
        second = receiver.received[-1]
        assert len(second.headers["webhook-signature"].split(" ")) == 1
        Webhook(rotated.secret).verify(second.body, second.headers)


def _delivery(engine: Engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(DELIVERIES)).one()


def test_the_retry_schedule_then_dead_then_redelivered_with_the_same_id(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    receiver.reply("/hook", Reply(500, "boom"))
    start = datetime.now(UTC).replace(microsecond=0)
    with freeze_time(start, real_asyncio=True) as clock:
        subscribe(engine, config, utcnow(), receiver.url())
        publish_many(engine, [notice("a", utcnow())], utcnow())
        waits = []
        for attempt in range(1, len(config.retry_schedule) + 2):
            before = utcnow()
            stats = _run(engine, config)
            assert stats.claimed == 1
            row = _delivery(engine)
            assert row.attempts == attempt
            if row.status == "dead":
                break
            waits.append(row.next_attempt_at - before)
            clock.move_to(row.next_attempt_at - timedelta(seconds=1))
            assert _run(engine, config).claimed == 0
            clock.move_to(row.next_attempt_at)
        assert row.status == "dead" and row.attempts == 8
        for wait, step in zip(waits, config.retry_schedule, strict=True):
            assert 0.8 * step <= wait <= 1.2 * step
        ids = {r.headers["webhook-id"] for r in receiver.received}
        assert len(receiver.received) == 8 and len(ids) == 1
        receiver.reply("/hook", Reply(200))
        with engine.begin() as conn:
            retry_delivery(conn, row.id, utcnow())
        assert _run(engine, config).delivered == 1
    assert receiver.received[-1].headers["webhook-id"] in ids
    with engine.connect() as conn:
        detail = get_delivery(conn, row.id)
    assert len(detail.attempts) == 9
    assert (detail.attempts[0].status_code, detail.attempts[0].response_excerpt) == (500, "boom")


def test_recover_requeues_what_failed_since(engine: Engine, config: AlertsConfig, receiver: Receiver) -> None:
    quick = AlertsConfig(allow_private=True, retry_schedule=(timedelta(seconds=5),), lease=timedelta(seconds=30))
    receiver.reply("/hook", Reply(503))
    start = datetime.now(UTC).replace(microsecond=0)
    with freeze_time(start, real_asyncio=True) as clock:
        sub = subscribe(engine, quick, utcnow(), receiver.url()).subscription.id
        publish_many(engine, [notice(f"n{i}", utcnow()) for i in range(3)], utcnow())
        _run(engine, quick)
        clock.tick(timedelta(seconds=10))
        assert _run(engine, quick).dead == 3
        receiver.reply("/hook", Reply(204))
        with engine.begin() as conn:
            assert recover(conn, sub, start, utcnow()) == 3
        assert _run(engine, quick).delivered == 3
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 3


def test_retry_after_is_honoured(engine: Engine, config: AlertsConfig, receiver: Receiver) -> None:
    receiver.reply("/hook", Reply(503, headers={"Retry-After": "120"}))
    with freeze_time(datetime.now(UTC), real_asyncio=True):
        now = utcnow()
        subscribe(engine, config, now, receiver.url())
        publish_many(engine, [notice("a", now)], now)
        _run(engine, config, now)
        assert _delivery(engine).next_attempt_at == now + timedelta(seconds=120)


def test_410_disables_the_subscription_and_says_so(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    receiver.reply("/gone", Reply(410))
    now = utcnow()
    gone = subscribe(engine, config, now, receiver.url("/gone"), events=["milestone.*"]).subscription.id
    subscribe(engine, config, now, receiver.url("/ops"), events=["subscription.*"], tags=["unrelated"])
    publish_many(engine, [notice("a", now)], now)
    stats = _run(engine, config, now)
    assert stats.disabled == [gone]
    with engine.connect() as conn:
        view = get_subscription(conn, gone)
    assert not view.active and view.disabled_reason is not None and "410" in view.disabled_reason
    assert _delivery_statuses(engine) == {"dead": 1, "delivered": 1}
    (told,) = receiver.at("/ops")
    data = json.loads(told.body)
    assert data["type"] == "subscription.disabled"
    assert data["data"]["subscription_id"] == gone and data["data"]["host"] == "127.0.0.1"
    assert data["data"]["message"]["headline"] == f"Webhook {gone} disabled"
    assert data["data"]["message"]["text"].startswith("Deliveries to 127.0.0.1 have stopped: ")
    publish_many(engine, [notice("b", now)], now)
    _run(engine, config, now)
    assert len(receiver.at("/gone")) == 1


def _delivery_statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        counts: dict[str, int] = {}
        for status in conn.execute(select(DELIVERIES.c.status)).scalars():
            counts[status] = counts.get(status, 0) + 1
        return counts


def test_failing_for_five_days_disables(engine: Engine, config: AlertsConfig, receiver: Receiver) -> None:
    receiver.reply("/hook", Reply(500))
    start = datetime.now(UTC).replace(microsecond=0)
    with freeze_time(start, real_asyncio=True) as clock:
        sub = subscribe(engine, config, utcnow(), receiver.url()).subscription.id
        publish_many(engine, [notice("a", utcnow())], utcnow())
        _run(engine, config)
        clock.tick(timedelta(days=4))
        publish_many(engine, [notice("b", utcnow())], utcnow())
        _run(engine, config)
        with engine.connect() as conn:
            assert get_subscription(conn, sub).failing_since == start
        clock.tick(timedelta(days=1))
        stats = _run(engine, config)
        assert stats.disabled == [sub]
    with engine.connect() as conn:
        view = get_subscription(conn, sub)
    assert not view.active and "failing without a success" in (view.disabled_reason or "")


def test_a_redirect_is_a_failure_and_is_not_followed(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    receiver.reply("/hook", Reply(302, headers={"Location": receiver.url("/elsewhere")}))
    now = utcnow()
    subscribe(engine, config, now, receiver.url())
    publish_many(engine, [notice("a", now)], now)
    assert _run(engine, config, now).retrying == 1
    assert receiver.at("/elsewhere") == []
    assert _delivery(engine).last_status_code == 302


def test_a_hanging_receiver_times_out_without_delaying_the_others(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    receiver.reply("/hang", Reply(hang=True))
    now = utcnow()
    subscribe(engine, config, now, receiver.url("/hang"), timeout_seconds=1.0)
    subscribe(engine, config, now, receiver.url("/fast"))
    publish_many(engine, [notice(f"n{i}", now) for i in range(30)], now)
    started = time.monotonic()
    stats = _run(engine, config, now)
    assert stats.delivered == 30 and stats.retrying == 30
    fast = receiver.at("/fast")
    assert len(fast) == 30
    assert max(r.at for r in fast) - started < 0.8
    with engine.connect() as conn:
        hung = list_deliveries(conn, status="pending")
        detail = get_delivery(conn, hung[0].id)
    assert all(d.next_attempt_at is not None and d.next_attempt_at - now >= timedelta(seconds=60) for d in hung)
    assert detail.attempts[0].error == "timed out after 1s"
    assert len(receiver.at("/hang")) <= 30


def test_a_restart_in_the_middle_of_a_backlog_loses_nothing(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    now = utcnow()
    subscribe(engine, config, now, receiver.url())
    publish_many(engine, [notice(f"n{i}", now) for i in range(60)], now)
    small = AlertsConfig(allow_private=True, lease=config.lease, batch_size=10, max_in_flight=10)
    # A worker that claims a batch and is killed before recording anything:
    from alerts.outbox import claim, fan_out

    with engine.execution_options(sqlite_immediate=True).begin() as conn:
        fan_out(conn, now)
    with engine.execution_options(sqlite_immediate=True).begin() as conn:
        lost = claim(conn, "killed", now, 25, config.claim_lease)
    assert len(lost) == 25
    assert _run(engine, small, now, "w2").delivered == 35
    assert config.lease is not None
    assert _run(engine, small, now + config.lease, "w2").delivered == 25
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 60
    assert _delivery_statuses(engine) == {"delivered": 60}


def test_send_test_pings_now(engine: Engine, config: AlertsConfig, receiver: Receiver) -> None:
    sub = subscribe(engine, config, utcnow(), receiver.url())
    ping = asyncio.run(send_test(engine, config, sub.subscription.id))
    assert ping.result.ok and ping.result.status_code == 200
    (got,) = receiver.received
    assert got.headers["webhook-id"] == ping.webhook_id
    payload = Webhook(sub.secret).verify(got.body, got.headers)
    assert payload["type"] == "test.ping"
    assert payload["data"]["message"]["headline"] == "Test notice: this webhook works"


def test_while_another_connection_holds_the_write_lock_the_pass_waits_off_the_loop(
    sqlite_engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """On SQLite a pass's database work runs on the event loop only when the write lock is free;
    behind a held lock it waits in a thread, and everything is sent and recorded once it is free."""
    now = utcnow()
    subscribe(sqlite_engine, config, now, receiver.url())
    publish_many(sqlite_engine, [notice(f"n{i}", now) for i in range(3)], now)
    holder = sqlite_engine.execution_options(sqlite_immediate=True).connect()
    holder.begin()
    ticks_at_release: list[int] = []

    async def scenario() -> DeliveryStats:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        def free() -> None:
            ticks_at_release.append(ticks)
            holder.rollback()

        ticker = asyncio.create_task(tick())
        threading.Timer(0.5, free).start()
        try:
            return await run_deliveries(sqlite_engine, config, now, "w1")
        finally:
            ticker.cancel()

    try:
        stats = asyncio.run(scenario())
    finally:
        holder.close()
    assert ticks_at_release[0] >= 10  # the loop ran on while the lock was held (~50 ticks)
    assert (stats.created, stats.delivered) == (3, 3)
    assert len(receiver.received) == 3


def test_outcomes_are_recorded_in_batches(engine: Engine, config: AlertsConfig, receiver: Receiver) -> None:
    """A transaction records `settle_batch` outcomes, or all that is held, not each as it comes."""
    # Only the batch size decides here.
    config = dataclasses.replace(config, tuning=Tuning(settle_batch=10, settle_wait=timedelta(seconds=60)))
    now = utcnow()
    subscribe(engine, config, now, receiver.url(), concurrency=5)
    publish_many(engine, [notice(f"n{i}", now) for i in range(40)], now)
    assert _run(engine, config, now).delivered == 40
    with engine.connect() as conn:
        by_batch = text("SELECT count(*) FROM delivery_attempts GROUP BY at ORDER BY min(id)")
        sizes = conn.execute(by_batch).scalars().all()
    assert sum(sizes) == 40
    # Each batch has at least 10, but the last, which has all that was left.
    assert all(size >= 10 for size in sizes[:-1]), sizes
    assert len(sizes) <= 4, sizes


def test_an_outcome_waits_for_its_batch_only_briefly(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """A finished request is recorded within `settle_wait` even while the rest of its batch hangs."""
    # No idle wake-up records it instead.
    tuning = Tuning(settle_wait=timedelta(milliseconds=50), idle_poll=timedelta(seconds=60))
    config = dataclasses.replace(config, tuning=tuning)
    now = utcnow()
    subscribe(engine, config, now, receiver.url("/fast"))
    subscribe(engine, config, now, receiver.url("/slow"))
    receiver.reply("/slow", Reply(hang=True))
    publish_many(engine, [notice("a", now)], now)
    recorded_while_hanging: list[bool] = []

    def watch() -> None:
        deadline = time.monotonic() + 2  # within the 3 s timeout of the hanging request
        while time.monotonic() < deadline and "delivered" not in statuses(engine).values():
            time.sleep(0.01)
        recorded_while_hanging.append("delivered" in statuses(engine).values())
        receiver.release()

    watcher = threading.Thread(target=watch)
    watcher.start()
    stats = _run(engine, config, now)
    watcher.join()
    assert recorded_while_hanging == [True]
    assert stats.delivered == 2


def test_a_cookie_one_receiver_sets_is_never_sent(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """Webhook requests carry no state: a Set-Cookie from one subscription's receiver is not sent
    back, to it or to another subscription on the same host, however long the session lives."""
    now = utcnow()
    receiver.reply("/a", Reply(headers={"Set-Cookie": "session=of-a; Path=/"}))
    # By name: aiohttp's default cookie jar ignores cookies of IP-address hosts.
    subscribe(engine, config, now, receiver.url("/a", host="localhost"))

    async def two_passes() -> None:
        async with Channels(config) as sender:
            publish_many(engine, [notice("first", now)], now)
            await run_deliveries(engine, config, now, "w1", channels=sender)
            subscribe(engine, config, now, receiver.url("/b", host="localhost"))
            publish_many(engine, [notice("second", now)], now)
            await run_deliveries(engine, config, now, "w1", channels=sender)

    asyncio.run(two_passes())
    assert sorted(r.path for r in receiver.received) == ["/a", "/a", "/b"]
    assert [r.headers.get("Cookie") for r in receiver.received] == [None, None, None]


HOSTILE_RETRY_AFTER = ("²", "99999999999999999999", "-1", "1e309", "")


def test_hostile_retry_after_beside_good_receivers_loses_and_repeats_nothing(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """H2: receivers answering 503 with hostile Retry-After values share the batch with good ones.
    Every good delivery is delivered exactly once; the hostile ones are retried later (on the
    schedule), and delivered once when their receiver recovers."""
    now = utcnow()
    good = ["/good-1", "/good-2"]
    hostile = [f"/hostile-{i}" for i in range(len(HOSTILE_RETRY_AFTER))]
    for path, value in zip(hostile, HOSTILE_RETRY_AFTER, strict=True):
        refusals = [Reply(status=503, headers={"Retry-After": value})] * 5
        receiver.reply(path, *refusals, Reply(status=200))
    for path in good + hostile:
        subscribe(engine, config, now, receiver.url(path))
    publish_many(engine, [notice(f"n{i}", now) for i in range(5)], now)
    first = _run(engine, config, now)
    assert (first.created, first.delivered, first.retrying) == (35, 10, 25)
    for path in good:
        assert len({r.headers["webhook-id"] for r in receiver.at(path)}) == len(receiver.at(path)) == 5
    d = DELIVERIES.c
    with engine.connect() as conn:
        waiting = conn.execute(select(d.next_attempt_at, d.last_status_code).where(d.status == "pending")).all()
    assert len(waiting) == 25 and {w.last_status_code for w in waiting} == {503}
    assert all(w.next_attempt_at > now for w in waiting)
    later = now + timedelta(hours=25)  # past the longest Retry-After honoured (24 h)
    second = _run(engine, config, later)
    assert (second.delivered, second.retrying) == (25, 0)
    assert _delivery_statuses(engine) == {"delivered": 35}
    for path in good:
        assert len(receiver.at(path)) == 5
    for path in hostile:
        ids = [r.headers["webhook-id"] for r in receiver.at(path)]
        assert len(ids) == 10 and len(set(ids)) == 5  # each sent twice: the 503, then the retry
