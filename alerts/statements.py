"""The outbox's statements, built once per dialect (and shape) with their values bound at execution,
and the rows they return, read by position.

Building a statement and working out its cache key cost more than running it, batch after batch,
so each is cached here. Hot paths read SQLAlchemy rows by position or unpack them into the named
tuples below: a row's attribute access (compiled `Row.__getattribute__`, SQLAlchemy 2.1) raises and
swallows an AttributeError each time, ~13 per delivery.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Integer, String, Table, bindparam, func, literal_column, select, update
from sqlalchemy.dialects import postgresql

from alerts.claim_pick import picked
from alerts.models import Delivery, DeliveryAttempt, Subscription
from alerts.notices import NOTICES
from alerts.sqltypes import stored_text

SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[attr-defined]
DELIVERIES: Table = Delivery.__table__  # type: ignore[attr-defined]
ATTEMPTS: Table = DeliveryAttempt.__table__  # type: ignore[attr-defined]
STATUSES = ("pending", "in_flight", "delivered", "dead", "cancelled", "silenced", "collected", "digested")


def among(dialect: str, column: Any) -> Any:
    """`column IN ids` with the ids as one parameter, bound by `id_list` (a JSON array on SQLite, an
    array on PostgreSQL): a long literal IN list costs more to build than the query costs to run."""
    if dialect == "postgresql":
        return column == func.any(bindparam("among", type_=postgresql.ARRAY(Integer)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam("among", type_=String()))))


def id_list(conn: Connection, ids: Sequence[int]) -> dict[str, Any]:
    """The parameter of `among` for `ids`."""
    return {"among": list(ids) if conn.dialect.name == "postgresql" else json.dumps(list(ids))}


@functools.cache
def fan_out_statement(dialect: str, with_payload: bool) -> Any:
    """Mark the next `limit` notices not yet fanned out as fanned out at `now`, returning them."""
    n = NOTICES.c
    pending = select(n.id).where(n.fanned_out_at.is_(None)).order_by(n.id).limit(bindparam("limit", type_=Integer))
    returned = [
        n.id,
        n.type,
        stored_text(n.tags),
        stored_text(n.subjects),
        *([stored_text(n.payload)] if with_payload else []),
    ]
    chosen = picked(dialect, n.id, pending, NOTICES)
    return (
        update(NOTICES)
        .where(chosen)
        .values(fanned_out_at=bindparam("now", type_=n.fanned_out_at.type))
        .returning(*returned)
    )


ACTIVE_SUBSCRIPTIONS = select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.active.is_(True))


@functools.cache
def take_statement(dialect: str, expired: bool, skipping: bool) -> Any:
    """Lease up to `limit` rows to `worker` until `until`: in flight with an expired lease (oldest
    lease first) or pending and due (oldest due first), of active subscriptions, none of `skipped`
    if `skipping`; returning their ids (see `picked` for why two workers never both take a row)."""
    d, s = DELIVERIES.c, SUBSCRIPTIONS.c
    by = bindparam("due_by", type_=d.next_attempt_at.type)
    due, order = (
        ((d.status == "in_flight", d.lease_until <= by), d.lease_until)
        if expired
        else ((d.status == "pending", d.next_attempt_at <= by), d.next_attempt_at)
    )
    # Ties (the deliveries moved to the end of quiet hours share a time) go in the order they were made.
    query = (
        select(d.id)
        .join(SUBSCRIPTIONS, s.id == d.subscription_id)
        .where(s.active.is_(True), *due)
        .order_by(order, d.id)
    )
    if skipping:
        query = query.where(d.subscription_id.not_in(bindparam("skipped", expanding=True)))
    chosen = picked(dialect, d.id, query.limit(bindparam("limit", type_=Integer)), DELIVERIES)
    leased = {
        "status": "in_flight",
        "lease_until": bindparam("until", type_=d.lease_until.type),
        "claimed_by": bindparam("worker", type_=d.claimed_by.type),
        "updated_at": bindparam("now", type_=d.updated_at.type),
    }
    return update(DELIVERIES).where(chosen).values(leased).returning(d.id)


@functools.cache
def claimed_rows_statement(dialect: str) -> Any:
    """The claimed deliveries `among`, each with its notice's type and payload and what its
    subscription says about sending it."""
    d, n, s = DELIVERIES.c, NOTICES.c, SUBSCRIPTIONS.c
    return (
        select(
            d.id,
            d.webhook_id,
            d.subscription_id,
            d.attempts,
            n.type,
            stored_text(n.payload),
            s.url,
            s.format,
            s.secret,
            s.previous_secret,
            s.previous_secret_expires_at,
            s.concurrency,
            s.timeout_seconds,
        )
        .join(NOTICES, n.id == d.notice_id)
        .join(SUBSCRIPTIONS, s.id == d.subscription_id)
        .where(among(dialect, d.id))
        .order_by(d.id)
    )


def recorded(which: Any, worker: str, now: str) -> Any:
    """An UPDATE that records an attempt on the deliveries `which` picks that the worker bound as
    `worker` still holds: one more attempt, the lease given up, updated at the instant bound as `now`.
    The outcome's own columns are the caller's `.values(...)`."""
    d = DELIVERIES.c
    held = update(DELIVERIES).where(which, d.status == "in_flight", d.claimed_by == bindparam(worker))
    at = bindparam(now, type_=d.updated_at.type)
    return held.values(attempts=d.attempts + 1, lease_until=None, claimed_by=None, updated_at=at)


@functools.cache
def delivered_statement(dialect: str) -> Any:
    """Record the deliveries `among` that `worker` still holds as delivered with `code` at `now`."""
    d = DELIVERIES.c
    return recorded(among(dialect, d.id), "worker", "now").values(
        status="delivered",
        next_attempt_at=None,
        last_status_code=bindparam("code", type_=d.last_status_code.type),
        last_error=None,
        delivered_at=bindparam("now", type_=d.delivered_at.type),
    )


OTHER_OUTCOME = recorded(DELIVERIES.c.id == bindparam("b_id"), "b_worker", "b_now").values(
    status=bindparam("b_status"),
    next_attempt_at=bindparam("b_next", type_=DELIVERIES.c.next_attempt_at.type),
    last_status_code=bindparam("b_code"),
    last_error=bindparam("b_error"),
)
"""Record one attempt that did not deliver (executed with a row of parameters per delivery)."""


HEALTH = (
    select(
        SUBSCRIPTIONS.c.id,
        SUBSCRIPTIONS.c.url,
        SUBSCRIPTIONS.c.active,
        SUBSCRIPTIONS.c.failing_since,
        SUBSCRIPTIONS.c.last_success_at,
    )
    .where(SUBSCRIPTIONS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(SUBSCRIPTIONS.c.id)
)


class Claimed(NamedTuple):
    """A delivery leased to this worker, with all it takes to send it. (A named tuple: one is made
    per delivery, cheaper than a frozen dataclass: see
    docs/design.md#per-request-objects-built-once.) `payload_json` is the notice's payload as
    stored: the body of a `standard` delivery as it is (see `alerts.formats.body`)."""

    id: int
    webhook_id: str
    subscription_id: str
    attempts: int
    notice_type: str
    payload_json: str
    url: str
    format: str
    keys: tuple[str, ...]
    concurrency: int | None
    timeout_seconds: float | None


class NoticeRow(NamedTuple):
    """A notice as a fan-out reads it (`fan_out_statement`'s columns, in order)."""

    id: int
    type: str
    tags: str
    subjects: str
    payload: str | None = None


class SendingRow(NamedTuple):
    """What a subscription's row says about sending to it, in `claimed_rows_statement`'s order.
    (Read by position: see the module's docstring.)"""

    url: str
    format: str
    secret: str | None
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    concurrency: int | None
    timeout_seconds: float | None


def sending_row(row: Any) -> SendingRow:
    """The `SendingRow` columns of a full subscription row (read by name once per fan-out)."""
    return SendingRow._make(row._mapping[name] for name in SendingRow._fields)
