"""Looking into the outbox and sending again: delivery listings, one delivery with its attempts,
a manual retry, and `recover` (send again what failed since a time). A delivery sent again keeps
its `webhook-id`, so receivers that deduplicate by it see the same message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from alerts.errors import ConflictError, NotFoundError, SubscriptionError
from alerts.notices import NOTICES
from alerts.statements import ATTEMPTS, DELIVERIES, STATUSES
from alerts.subscriptions import get_subscription

RESENDABLE = ("dead", "cancelled")


@dataclass(frozen=True)
class DeliveryView:
    id: int
    notice_id: int
    notice_key: str
    notice_type: str
    subscription_id: str
    webhook_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class AttemptView:
    at: datetime
    status_code: int | None
    latency_ms: float
    response_excerpt: str | None
    error: str | None


@dataclass(frozen=True)
class DeliveryDetail:
    delivery: DeliveryView
    payload: dict[str, Any]
    attempts: tuple[AttemptView, ...]


def _query() -> Any:
    d, n = DELIVERIES.c, NOTICES.c
    return select(
        d.id,
        d.notice_id,
        n.key,
        n.type,
        n.payload,
        d.subscription_id,
        d.webhook_id,
        d.status,
        d.attempts,
        d.next_attempt_at,
        d.last_status_code,
        d.last_error,
        d.created_at,
        d.updated_at,
        d.delivered_at,
    ).join(NOTICES, n.id == d.notice_id)


def _view(row: Row[Any]) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        notice_id=row.notice_id,
        notice_key=row.key,
        notice_type=row.type,
        subscription_id=row.subscription_id,
        webhook_id=row.webhook_id,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        updated_at=row.updated_at,
        delivered_at=row.delivered_at,
    )


def list_deliveries(
    conn: Connection,
    *,
    status: str | None = None,
    subscription_id: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[DeliveryView]:
    """Deliveries, newest first, optionally of one status and/or one subscription; page with
    `before_id` (the smallest id of the previous page)."""
    d = DELIVERIES.c
    if status is not None and status not in STATUSES:
        raise SubscriptionError(f"status is one of {', '.join(STATUSES)}", field="status")
    query = _query().order_by(d.id.desc()).limit(max(1, min(limit, 1000)))
    if status is not None:
        query = query.where(d.status == status)
    if subscription_id is not None:
        query = query.where(d.subscription_id == subscription_id)
    if before_id is not None:
        query = query.where(d.id < before_id)
    return [_view(row) for row in conn.execute(query)]


def get_delivery(conn: Connection, delivery_id: int) -> DeliveryDetail:
    """One delivery, the payload it carries, and every attempt, oldest first."""
    row = conn.execute(_query().where(DELIVERIES.c.id == delivery_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no delivery {delivery_id}")
    a = ATTEMPTS.c
    attempts = conn.execute(
        select(a.at, a.status_code, a.latency_ms, a.response_excerpt, a.error)
        .where(a.delivery_id == delivery_id)
        .order_by(a.id)
    ).all()
    return DeliveryDetail(
        _view(row),
        row.payload,
        tuple(AttemptView(r.at, r.status_code, r.latency_ms, r.response_excerpt, r.error) for r in attempts),
    )


def retry_delivery(conn: Connection, delivery_id: int, now: datetime) -> DeliveryView:
    """Queue a delivery to be sent now with the same webhook-id, and a fresh retry schedule.
    Refused while it is in flight, and while its subscription is inactive."""
    detail = get_delivery(conn, delivery_id)
    if detail.delivery.status == "in_flight":
        raise ConflictError(f"delivery {delivery_id} is being sent right now")
    if not get_subscription(conn, detail.delivery.subscription_id).active:
        raise ConflictError(f"subscription {detail.delivery.subscription_id!r} is disabled: enable it first")
    d = DELIVERIES.c
    conn.execute(
        update(DELIVERIES)
        .where(d.id == delivery_id, d.status != "in_flight")
        .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None, claimed_by=None, updated_at=now)
    )
    return get_delivery(conn, delivery_id).delivery


def recover(conn: Connection, subscription_id: str, since: datetime, now: datetime) -> int:
    """Send again what failed since `since` for one subscription: its dead and cancelled deliveries
    created since then go back to pending (same webhook-ids), and those waiting for a retry are made
    due now. Returns how many were queued. The subscription must be active."""
    if not get_subscription(conn, subscription_id).active:
        raise ConflictError(f"subscription {subscription_id!r} is disabled: enable it first")
    d = DELIVERIES.c
    requeued = conn.execute(
        update(DELIVERIES)
        .where(d.subscription_id == subscription_id, d.created_at >= since, d.status.in_(RESENDABLE))
        .values(status="pending", attempts=0, next_attempt_at=now, lease_until=None, claimed_by=None, updated_at=now)
    ).rowcount
    hurried = conn.execute(
        update(DELIVERIES)
        .where(
            d.subscription_id == subscription_id,
            d.created_at >= since,
            d.status == "pending",
            d.next_attempt_at > now,
        )
        .values(next_attempt_at=now, updated_at=now)
    ).rowcount
    return int(requeued) + int(hurried)


def status_counts(conn: Connection) -> dict[str, int]:
    """How many deliveries are in each status (for metrics and health pages)."""
    d = DELIVERIES.c
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(
        {row.status: row.n for row in conn.execute(select(d.status, func.count().label("n")).group_by(d.status))}
    )
    return counts
