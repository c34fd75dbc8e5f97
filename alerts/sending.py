"""Sending: the entry points of delivery. `run_deliveries` / `deliver_once` run one pass of the
delivery loop (`alerts.delivery_loop`) through the channels (`alerts.channels`); `send_test` sends a
signed `test.ping` to one subscription now, outside the outbox."""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from alerts import formats, signing
from alerts.channels import Channels
from alerts.config import AlertsConfig
from alerts.delivery_loop import DeliveryLoop, DeliveryStats
from alerts.errors import NotFoundError
from alerts.gc_freeze import new_objects_only
from alerts.message import own_message
from alerts.policy import AttemptResult
from alerts.sqltypes import utcnow
from alerts.statements import SUBSCRIPTIONS, Claimed

__all__ = ["DeliveryStats", "PingResult", "deliver_once", "run_deliveries", "send_test"]


async def run_deliveries(
    engine: Engine,
    config: AlertsConfig,
    now: datetime,
    worker_id: str,
    *,
    channels: Channels | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> DeliveryStats:
    """Fan out new notices, then claim, send and record due deliveries until none is left.

    `now` is the instant of the first claim; later batches advance it by the (monotonic) time spent,
    so a long backlog is signed with current timestamps. Outcomes are recorded in batches. Once
    `stop` is set (the process is shutting down), nothing more is claimed; requests in flight get
    `tuning.stop_grace` to finish and are recorded, the others are released for another worker, and
    the pass returns. While it runs, the garbage collector leaves the heap that existed before it
    alone (see `alerts.gc_freeze`). `channels` defaults to those of `alerts.channels.REGISTRY`.
    """
    if channels is None:
        async with Channels(config) as own:
            return await run_deliveries(engine, config, now, worker_id, channels=own, rng=rng, stop=stop)
    with new_objects_only():
        return await DeliveryLoop(engine, config, now, worker_id, channels, rng or random.Random(), stop).run()


def deliver_once(
    engine: Engine,
    config: AlertsConfig,
    now: datetime,
    worker_id: str,
    *,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> DeliveryStats:
    """`run_deliveries` for synchronous callers (the scheduler's jobs): one pass, then return."""
    return asyncio.run(run_deliveries(engine, config, now, worker_id, rng=rng, stop=stop))


@dataclass(frozen=True)
class PingResult:
    """The outcome of `send_test`: the test's own `webhook-id` and what the target answered."""

    webhook_id: str
    result: AttemptResult


async def send_test(
    engine: Engine, config: AlertsConfig, subscription_id: str, now: datetime | None = None
) -> PingResult:
    """Send a signed `test.ping` to a subscription now, outside the outbox, and return the answer."""
    moment = now or utcnow()
    s = SUBSCRIPTIONS.c
    with engine.connect() as conn:
        row = conn.execute(select(SUBSCRIPTIONS).where(s.id == subscription_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no subscription {subscription_id!r}")
    data: dict[str, Any] = {"subscription_id": subscription_id, "title": "Test notice: this webhook works"}
    data["message"] = own_message("test.ping", data).as_dict()
    payload = {"type": "test.ping", "timestamp": moment.isoformat().replace("+00:00", "Z"), "data": data}
    delivery = Claimed(
        id=0,
        webhook_id=signing.new_webhook_id(),
        subscription_id=subscription_id,
        attempts=0,
        notice_type="test.ping",
        payload_json=formats.encode(payload),
        url=row.url,
        format=row.format,
        keys=signing.signing_keys(row.secret, row.previous_secret, row.previous_secret_expires_at, moment),
        concurrency=row.concurrency,
        timeout_seconds=row.timeout_seconds,
    )
    async with Channels(config) as channels:
        result = await channels.send(delivery, int(moment.timestamp()))
    return PingResult(delivery.webhook_id, result)
