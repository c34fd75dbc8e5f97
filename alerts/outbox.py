"""The durable outbox: notices fan out into delivery rows, workers claim due rows, outcomes are recorded.

Every state change is one statement or one short transaction and a compare-and-set, so any number of
workers can share the database: on PostgreSQL rows are picked with `FOR UPDATE SKIP LOCKED`, on
SQLite the single `UPDATE ... RETURNING` statement holds the write lock while it picks. A claim is a
lease: the rows of a worker that died come back once `lease_until` has passed. Core statements in
batches throughout: this is the hot path.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

from sqlalchemy import Connection, Integer, String, Table, bindparam, func, literal_column, select, update
from sqlalchemy.dialects import postgresql

from alerts.bulk import insert_returning, insert_rows
from alerts.config import AlertsConfig
from alerts.models import Delivery, DeliveryAttempt, Subscription
from alerts.notices import NOTICES, NewNotice, publish
from alerts.picking import picked
from alerts.policy import AttemptResult, Decision, Filters, decide, should_disable, wants
from alerts.signing import new_webhook_id
from alerts.sqltypes import json_strings, stored_text

SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[attr-defined]
DELIVERIES: Table = Delivery.__table__  # type: ignore[attr-defined]
ATTEMPTS: Table = DeliveryAttempt.__table__  # type: ignore[attr-defined]
EXCERPT_CHARS = 1024
STATUSES = ("pending", "in_flight", "delivered", "dead", "cancelled")
SUCCESS_WRITE_EVERY = timedelta(seconds=30)
"""A healthy subscription's `last_success_at` is rewritten at most this often. Every worker records
into the same subscription row: writing it on each batch made that row the lock all workers queued
on (PostgreSQL's CPU per delivery doubled from one worker to two). A failure, and the first success
after one, are always written."""


def _among(dialect: str, column: Any) -> Any:
    """`column IN ids` with the ids as one parameter, bound by `_ids` (a JSON array on SQLite, an
    array on PostgreSQL): a long literal IN list costs more to build than the query costs to run."""
    if dialect == "postgresql":
        return column == func.any(bindparam("among", type_=postgresql.ARRAY(Integer)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam("among", type_=String()))))


def _ids(conn: Connection, ids: Sequence[int]) -> dict[str, Any]:
    """The parameter of `_among` for `ids`."""
    return {"among": list(ids) if conn.dialect.name == "postgresql" else json.dumps(list(ids))}


# The statements of the hot path, built once per dialect (and shape) with their values bound at
# execution: building a statement and working out its cache key cost more than running it.


@functools.cache
def _fan_out_statement(dialect: str, with_payload: bool) -> Any:
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


_ACTIVE_SUBSCRIPTIONS = select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.active.is_(True))


@functools.cache
def _take_statement(dialect: str, expired: bool, skipping: bool) -> Any:
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
    query = select(d.id).join(SUBSCRIPTIONS, s.id == d.subscription_id).where(s.active.is_(True), *due).order_by(order)
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
def _claimed_rows_statement(dialect: str) -> Any:
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
        .where(_among(dialect, d.id))
        .order_by(d.id)
    )


def _recorded(which: Any, worker: str, now: str) -> Any:
    """An UPDATE that records an attempt on the deliveries `which` picks that the worker bound as
    `worker` still holds: one more attempt, the lease given up, updated at the instant bound as `now`.
    The outcome's own columns are the caller's `.values(...)`."""
    d = DELIVERIES.c
    held = update(DELIVERIES).where(which, d.status == "in_flight", d.claimed_by == bindparam(worker))
    at = bindparam(now, type_=d.updated_at.type)
    return held.values(attempts=d.attempts + 1, lease_until=None, claimed_by=None, updated_at=at)


@functools.cache
def _delivered_statement(dialect: str) -> Any:
    """Record the deliveries `among` that `worker` still holds as delivered with `code` at `now`."""
    d = DELIVERIES.c
    return _recorded(_among(dialect, d.id), "worker", "now").values(
        status="delivered",
        next_attempt_at=None,
        last_status_code=bindparam("code", type_=d.last_status_code.type),
        last_error=None,
        delivered_at=bindparam("now", type_=d.delivered_at.type),
    )


_OTHER_OUTCOME = _recorded(DELIVERIES.c.id == bindparam("b_id"), "b_worker", "b_now").values(
    status=bindparam("b_status"),
    next_attempt_at=bindparam("b_next", type_=DELIVERIES.c.next_attempt_at.type),
    last_status_code=bindparam("b_code"),
    last_error=bindparam("b_error"),
)
"""Record one attempt that did not deliver (executed with a row of parameters per delivery)."""


_HEALTH = (
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
    per delivery, at half the cost of a frozen dataclass.) `payload_json` is the notice's payload as
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


class Lease(NamedTuple):
    """What a fan-out may lease at once to the worker doing it, instead of leaving every new delivery
    pending for a claim: up to `room` deliveries in all, and of each subscription as many as
    `room_for(subscription_id, concurrency, timeout_seconds)` allows (what the worker held before
    this transaction; the fan-out counts what it takes itself)."""

    worker_id: str
    until: datetime
    room: int
    room_for: Callable[[str, int | None, float | None], int]


class _Notice(NamedTuple):
    """A notice as a fan-out reads it (`_fan_out_statement`'s columns, in order)."""

    id: int
    type: str
    tags: str
    subjects: str
    payload: str | None = None


class _Sending(NamedTuple):
    """What a subscription's row says about sending to it, in `_claimed_rows_statement`'s order.
    Hot paths read SQLAlchemy rows by position or unpack them into tuples like this one: a row's
    attribute access (compiled `Row.__getattribute__`, SQLAlchemy 2.1) raises and swallows an
    AttributeError each time, ~13 per delivery at ~2.5K instructions each."""

    url: str
    format: str
    secret: str | None
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    concurrency: int | None
    timeout_seconds: float | None


def _sending(row: Any) -> _Sending:
    """The `_Sending` columns of a full subscription row (read by name once per fan-out)."""
    return _Sending._make(row._mapping[name] for name in _Sending._fields)


@dataclass(frozen=True)
class FanOut:
    notices: int
    deliveries: int
    taken: list[Claimed] = field(default_factory=list)


def fan_out(conn: Connection, now: datetime, limit: int = 500, lease: Lease | None = None) -> FanOut:
    """Turn up to `limit` notices not yet fanned out into one delivery per matching active
    subscription, and mark them fanned out. Call it inside a transaction; the notices it takes are
    invisible to a concurrent caller (skipped on PostgreSQL, serialised on SQLite).

    New deliveries are pending, due now. With a `lease`, the first of them (in notice order) are
    leased to its worker instead, as a claim would, and come back in `taken`: a worker that has just
    found nothing due saves a claim's update of every row and its second read of the notice."""
    statement = _fan_out_statement(conn.dialect.name, lease is not None)
    notices = [_Notice(*row) for row in conn.execute(statement, {"limit": limit, "now": now})]
    if not notices:
        return FanOut(0, 0)
    subscriptions = {
        row.id: (_sending(row), Filters(tuple(row.events), tuple(row.tags), tuple(row.subjects)))
        for row in conn.execute(_ACTIVE_SUBSCRIPTIONS)
    }
    notices.sort()  # by id, the first field
    pairs = [
        (notice, sub_id)
        for notice in notices
        for sub_id, (_, filters) in subscriptions.items()
        if wants(filters, notice.type, json_strings(notice.tags), json_strings(notice.subjects))
    ]
    columns = ("notice_id", "subscription_id", "webhook_id")
    unique = ("notice_id", "subscription_id")
    fresh = {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "claimed_by": None,
        "created_at": now,
        "updated_at": now,
    }
    taken, left = _lease(pairs, lease, subscriptions) if lease is not None else ([], pairs)
    rows = [(notice.id, sub_id, new_webhook_id()) for notice, sub_id in left]
    created = insert_rows(conn, DELIVERIES, columns, rows, shared=fresh, unique=unique)
    if lease is None:
        return FanOut(len(notices), created)
    rows = [(notice.id, sub_id, new_webhook_id()) for notice, sub_id in taken]
    leased = {**fresh, "status": "in_flight", "lease_until": lease.until, "claimed_by": lease.worker_id}
    inserted = insert_returning(conn, DELIVERIES, columns, rows, ("webhook_id", "id"), shared=leased, unique=unique)
    ids: dict[str, int] = {row[0]: row[1] for row in inserted}  # webhook_id: id
    keys: dict[str, tuple[str, ...]] = {}
    claimed = []
    for (_, sub_id, webhook_id), (notice, _) in zip(rows, taken, strict=True):
        if webhook_id not in ids:  # one that existed already was neither inserted nor leased
            continue
        sending = subscriptions[sub_id][0]
        payload = cast(str, notice.payload)  # read: a leasing fan-out's statement returns payloads
        claimed.append(_claimed(ids[webhook_id], webhook_id, sub_id, 0, notice.type, payload, sending, keys, now))
    return FanOut(len(notices), created + len(ids), claimed)


def _lease(
    pairs: list[tuple[_Notice, str]], lease: Lease, subscriptions: dict[str, tuple[_Sending, Filters]]
) -> tuple[list[tuple[_Notice, str]], list[tuple[_Notice, str]]]:
    """The (notice, subscription id) pairs `lease` lets its worker take at once, in order, and the
    others."""
    taken: list[tuple[_Notice, str]] = []
    left: list[tuple[_Notice, str]] = []
    room: dict[str, int] = {}
    for pair in pairs:
        sub_id = pair[1]
        if len(taken) < lease.room:
            if sub_id not in room:
                sub = subscriptions[sub_id][0]
                room[sub_id] = lease.room_for(sub_id, sub.concurrency, sub.timeout_seconds)
            if room[sub_id] > 0:
                room[sub_id] -= 1
                taken.append(pair)
                continue
        left.append(pair)
    return taken, left


def claim(
    conn: Connection,
    worker_id: str,
    now: datetime,
    limit: int,
    lease: timedelta,
    exclude: Iterable[str] = (),
    *,
    reclaim: bool = True,
) -> list[Claimed]:
    """Lease up to `limit` due deliveries of active subscriptions to `worker_id` until `now + lease`:
    first (if `reclaim`) in-flight ones whose lease expired (their worker died), then pending ones
    whose time has come, oldest due first. `exclude` names subscriptions this worker has enough of."""
    skipped = sorted(set(exclude))
    params: dict[str, Any] = {"due_by": now, "until": now + lease, "worker": worker_id, "now": now}
    if skipped:
        params["skipped"] = skipped
    ids: list[int] = []
    if reclaim:
        ids = _take(conn, True, limit, params)
    if len(ids) < limit:
        ids += _take(conn, False, limit - len(ids), params)
    if not ids:
        return []
    rows = conn.execute(_claimed_rows_statement(conn.dialect.name), _ids(conn, ids))
    keys: dict[str, tuple[str, ...]] = {}
    return [
        _claimed(delivery_id, webhook_id, sub_id, attempts, notice_type, payload, _Sending(*sending), keys, now)
        for delivery_id, webhook_id, sub_id, attempts, notice_type, payload, *sending in rows
    ]


def _claimed(
    delivery_id: int,
    webhook_id: str,
    subscription_id: str,
    attempts: int,
    notice_type: str,
    payload: str,
    sub: _Sending,
    keys: dict[str, tuple[str, ...]],
    now: datetime,
) -> Claimed:
    """A `Claimed` from a notice's type and payload and its subscription's sending columns (of a
    claim's join or of a fan-out's reads); `keys` remembers each subscription's signing keys."""
    return Claimed(
        id=delivery_id,
        webhook_id=webhook_id,
        subscription_id=subscription_id,
        attempts=attempts,
        notice_type=notice_type,
        payload_json=payload,
        url=sub.url,
        format=sub.format,
        keys=_keys(keys, subscription_id, sub, now),
        concurrency=sub.concurrency,
        timeout_seconds=sub.timeout_seconds,
    )


def _keys(known: dict[str, tuple[str, ...]], subscription_id: str, sub: _Sending, now: datetime) -> tuple[str, ...]:
    """`signing_keys` of a subscription's columns in `sub`, worked out once per subscription in `known`."""
    keys = known.get(subscription_id)
    if keys is None:
        keys = known[subscription_id] = signing_keys(
            sub.secret, sub.previous_secret, sub.previous_secret_expires_at, now
        )
    return keys


def _take(conn: Connection, expired: bool, limit: int, params: dict[str, Any]) -> list[int]:
    """Lease up to `limit` rows (with expired leases, or due); their ids (`_take_statement`)."""
    statement = _take_statement(conn.dialect.name, expired, "skipped" in params)
    return list(conn.execute(statement, {**params, "limit": limit}).scalars().all())


def signing_keys(
    secret: str | None, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> tuple[str, ...]:
    """The secrets to sign with: the current one, and the previous one until its overlap ends."""
    keys = [secret] if secret else []
    if previous and previous_expires_at is not None and previous_expires_at > now:
        keys.append(previous)
    return tuple(keys)


@dataclass(frozen=True)
class Recorded:
    delivered: int
    retrying: int
    dead: int
    disabled: tuple[str, ...]


def record(
    conn: Connection,
    worker_id: str,
    now: datetime,
    outcomes: Sequence[tuple[Claimed, AttemptResult]],
    config: AlertsConfig,
    rng: random.Random,
) -> Recorded:
    """Write the outcome of attempts in one go: an attempt row each, the delivery's new state (only if
    this worker still holds it), and the subscriptions' health, disabling those that must be."""
    if not outcomes:
        return Recorded(0, 0, 0, ())
    decisions = [(c, r, decide(r, c.attempts + 1, now, config.retry_schedule, rng)) for c, r in outcomes]
    insert_rows(
        conn,
        ATTEMPTS,
        ("delivery_id", "status_code", "latency_ms", "response_excerpt", "error"),
        [
            (
                c.id,
                r.status_code,
                round(r.latency_ms, 3),
                _storable(r.excerpt[:EXCERPT_CHARS] if r.excerpt is not None else None),
                _storable(r.error),
            )
            for c, r, _ in decisions
        ],
        shared={"at": now, "worker": worker_id},
    )
    _write_outcomes(conn, worker_id, now, decisions)
    disabled = _update_health(conn, now, decisions, config.disable_after)
    counts = {
        status: sum(1 for *_, dec in decisions if dec.status == status) for status in ("delivered", "pending", "dead")
    }
    return Recorded(counts["delivered"], counts["pending"], counts["dead"], disabled)


def _write_outcomes(
    conn: Connection, worker_id: str, now: datetime, decisions: Sequence[tuple[Claimed, AttemptResult, Decision]]
) -> None:
    """Each delivery's new state, only where this worker still holds it: successes in one statement
    per status code (the common case, kept cheap), the rest row by row in one executemany."""
    delivered: dict[int, list[int]] = {}
    others = []
    for claimed, result, decision in decisions:
        if decision.status == "delivered" and result.status_code is not None:
            delivered.setdefault(result.status_code, []).append(claimed.id)
            continue
        others.append(
            {
                "b_id": claimed.id,
                "b_status": decision.status,
                "b_next": decision.next_attempt_at,
                "b_code": result.status_code,
                "b_error": _error_text(result),
                "b_worker": worker_id,
                "b_now": now,
            }
        )
    for code, ids in delivered.items():
        conn.execute(
            _delivered_statement(conn.dialect.name), {**_ids(conn, ids), "code": code, "now": now, "worker": worker_id}
        )
    if others:
        conn.execute(_OTHER_OUTCOME, others)


def renew(conn: Connection, worker_id: str, ids: Sequence[int], until: datetime, now: datetime) -> int:
    """Extend to `until` the leases of deliveries this worker still holds (it is alive, and they
    wait their turn behind a slow receiver); the count renewed. One that another worker has taken
    over since is left to it."""
    return _update_held(conn, worker_id, ids, lease_until=until, updated_at=now)


def release(conn: Connection, worker_id: str, ids: Sequence[int], now: datetime) -> int:
    """Hand back deliveries this worker claimed but will not attempt (it is stopping): pending and
    due now, no attempt counted, for any worker to take at once. The count released."""
    values = {"next_attempt_at": now, "lease_until": None, "claimed_by": None, "updated_at": now}
    return _update_held(conn, worker_id, ids, status="pending", **values)


def _update_held(conn: Connection, worker_id: str, ids: Sequence[int], **values: Any) -> int:
    """Set `values` on those of `ids` still in flight with this worker; the count updated."""
    if not ids:
        return 0
    d = DELIVERIES.c
    held = update(DELIVERIES).where(_among(conn.dialect.name, d.id), d.status == "in_flight", d.claimed_by == worker_id)
    return int(conn.execute(held.values(**values), _ids(conn, ids)).rowcount)


def _storable(text: str | None) -> str | None:
    """Text a receiver or its connection gave us, fit to store: a NUL (which PostgreSQL refuses in
    text, and SQLite's JSON functions cut a string at) becomes U+FFFD, as undecodable bytes do."""
    return text.replace("\x00", "\ufffd") if text is not None and "\x00" in text else text


def _error_text(result: AttemptResult) -> str | None:
    if result.error is not None:
        return _storable(result.error)
    if not result.ok and result.status_code is not None:
        return f"HTTP {result.status_code}"
    return None


def _update_health(
    conn: Connection,
    now: datetime,
    decisions: Sequence[tuple[Claimed, AttemptResult, Decision]],
    disable_after: timedelta,
) -> tuple[str, ...]:
    by_sub: dict[str, list[Decision]] = {}
    for claimed, _, decision in decisions:
        by_sub.setdefault(claimed.subscription_id, []).append(decision)
    s = SUBSCRIPTIONS.c
    # In id order: workers recording at the same time lock the subscriptions they share in the same
    # order, so they queue instead of deadlocking.
    rows = conn.execute(_HEALTH, {"ids": sorted(by_sub)}).all()
    disabled: list[str] = []
    for row in rows:
        outcomes = by_sub[row.id]
        if any(dec.status == "delivered" for dec in outcomes):
            healthy = row.failing_since is None and row.last_success_at is not None
            if healthy and now - row.last_success_at < SUCCESS_WRITE_EVERY:
                continue
            conn.execute(
                update(SUBSCRIPTIONS)
                .where(s.id == row.id)
                .values(last_success_at=now, failing_since=None, updated_at=now)
            )
            continue
        failing_since = row.failing_since or now
        if row.failing_since is None:
            conn.execute(update(SUBSCRIPTIONS).where(s.id == row.id).values(failing_since=now, updated_at=now))
        reason = next((dec.disable_reason for dec in outcomes if dec.disable_reason), None)
        if reason is None and should_disable(failing_since, row.last_success_at, now, disable_after):
            reason = f"failing without a success since {failing_since.isoformat()}"
        if reason is not None and row.active:
            disable(conn, row.id, reason, now)
            disabled.append(row.id)
    return tuple(disabled)


def disable(conn: Connection, subscription_id: str, reason: str, now: datetime) -> None:
    """Make a subscription inactive with `reason`, cancel its pending deliveries, and publish a
    `subscription.disabled` notice for the subscriptions that asked for those."""
    s = SUBSCRIPTIONS.c
    url = conn.execute(
        update(SUBSCRIPTIONS)
        .where(s.id == subscription_id, s.active.is_(True))
        .values(active=False, disabled_reason=reason, disabled_at=now, updated_at=now)
        .returning(s.url)
    ).scalar_one_or_none()
    if url is None:
        return
    cancel_pending(conn, subscription_id, f"subscription disabled: {reason}", now)
    notice = NewNotice(
        type="subscription.disabled",
        key=f"subscription.disabled:{subscription_id}:{now.isoformat()}",
        occurred_at=now,
        data={
            "subscription_id": subscription_id,
            # The host only: a path may hold a token (Slack and Discord URLs do).
            "host": urlsplit(url).hostname,
            "reason": reason,
            "title": f"Webhook {subscription_id} disabled",
        },
    )
    publish(conn, [notice], now)


def cancel_pending(conn: Connection, subscription_id: str, reason: str, now: datetime) -> int:
    """Cancel the deliveries of a subscription still waiting to be sent; the count cancelled."""
    d = DELIVERIES.c
    result = conn.execute(
        update(DELIVERIES)
        .where(d.subscription_id == subscription_id, d.status == "pending")
        .values(status="cancelled", last_error=reason, next_attempt_at=None, updated_at=now)
    )
    return int(result.rowcount)


ORPHAN_WINDOW = timedelta(minutes=10)
"""How far back `cancel_orphans` looks for subscriptions made inactive."""


def cancel_orphans(conn: Connection, now: datetime) -> int:
    """Cancel the pending deliveries of subscriptions made inactive in the last `ORPHAN_WINDOW`;
    the count cancelled. On PostgreSQL a fan-out that read a subscription as active can commit its
    new rows just after the subscription was disabled or deleted, whose own cancelling could not
    see them yet: no claim takes them (claims skip inactive subscriptions), so without this they
    would stay pending for good."""
    s = SUBSCRIPTIONS.c
    recent = select(s.id, s.disabled_reason).where(s.active.is_(False), s.disabled_at >= now - ORPHAN_WINDOW)
    return sum(
        cancel_pending(conn, row.id, f"subscription inactive: {row.disabled_reason}", now)
        for row in conn.execute(recent).all()
    )
