"""The outbox's state changes: notices fan out into delivery rows, workers claim due rows, outcomes
are recorded, leases are renewed or released.

Every state change is one statement or one short transaction and a compare-and-set, so any number of
workers can share the database: on PostgreSQL rows are picked with `FOR UPDATE SKIP LOCKED`, on
SQLite the single `UPDATE ... RETURNING` statement holds the write lock while it picks. A claim is a
lease: the rows of a worker that died come back once `lease_until` has passed. An outcome is written
only where its worker still holds the delivery. The statements are built once (`alerts.statements`);
subscription health is `alerts.health`.

Recording a batch of outcomes gives each delivery its own error boundary: an outcome that cannot be
worked out or written is recorded as that delivery's failed attempt with the reason (or, if even that
cannot be written, left in flight for its lease to bring back); the others are written.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, update

from alerts.batch_rows import insert_returning, insert_rows
from alerts.config import AlertsConfig
from alerts.health import update_health
from alerts.held_rows import addressed, quiet_retries, sort_pairs, write_held
from alerts.policy import AttemptResult, Decision, Filters, decide
from alerts.signing import new_webhook_id, signing_keys
from alerts.statements import (
    ACTIVE_SUBSCRIPTIONS,
    ATTEMPTS,
    DELIVERIES,
    OTHER_OUTCOME,
    SUBSCRIPTIONS,
    Claimed,
    NoticeRow,
    SendingRow,
    among,
    claimed_rows_statement,
    delivered_statement,
    fan_out_statement,
    id_list,
    sending_row,
    take_statement,
)

__all__ = ["DELIVERIES", "SUBSCRIPTIONS", "Claimed", "FanOut", "Lease", "Recorded", "claim", "fan_out", "record"]
EXCERPT_CHARS = 1024


class Lease(NamedTuple):
    """What a fan-out may lease at once to the worker doing it, instead of leaving every new delivery
    pending for a claim: up to `room` deliveries in all, and of each subscription as many as
    `room_for(subscription_id, concurrency, timeout_seconds)` allows (what the worker held before
    this transaction; the fan-out counts what it takes itself)."""

    worker_id: str
    until: datetime
    room: int
    room_for: Callable[[str, int | None, float | None], int]


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
    statement = fan_out_statement(conn.dialect.name, lease is not None)
    notices = [NoticeRow(*row) for row in conn.execute(statement, {"limit": limit, "now": now})]
    if not notices:
        return FanOut(0, 0)
    active = conn.execute(ACTIVE_SUBSCRIPTIONS).all()
    subscriptions = {
        row.id: (sending_row(row), Filters(tuple(row.events), tuple(row.tags), tuple(row.subjects))) for row in active
    }
    notices.sort()  # by id, the first field
    pairs = [
        (notice, sub_id)
        for notice in notices
        for sub_id, (_, filters) in subscriptions.items()
        if addressed(notice.type, notice.tags, notice.subjects, sub_id, filters)
    ]
    held = sort_pairs(conn, pairs, active, now)  # silenced, quiet or collected for a digest
    pairs, created = held.now, write_held(conn, held, now)
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
    created += insert_rows(conn, DELIVERIES, columns, rows, shared=fresh, unique=unique)
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
    pairs: list[tuple[NoticeRow, str]], lease: Lease, subscriptions: dict[str, tuple[SendingRow, Filters]]
) -> tuple[list[tuple[NoticeRow, str]], list[tuple[NoticeRow, str]]]:
    """The (notice, subscription id) pairs `lease` lets its worker take at once, in order, and the
    others."""
    taken: list[tuple[NoticeRow, str]] = []
    left: list[tuple[NoticeRow, str]] = []
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
    rows = conn.execute(claimed_rows_statement(conn.dialect.name), id_list(conn, ids))
    keys: dict[str, tuple[str, ...]] = {}
    return [
        _claimed(delivery_id, webhook_id, sub_id, attempts, notice_type, payload, SendingRow(*sending), keys, now)
        for delivery_id, webhook_id, sub_id, attempts, notice_type, payload, *sending in rows
    ]


def _claimed(
    delivery_id: int,
    webhook_id: str,
    subscription_id: str,
    attempts: int,
    notice_type: str,
    payload: str,
    sub: SendingRow,
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


def _keys(known: dict[str, tuple[str, ...]], subscription_id: str, sub: SendingRow, now: datetime) -> tuple[str, ...]:
    """`signing_keys` of a subscription's columns in `sub`, worked out once per subscription in `known`."""
    keys = known.get(subscription_id)
    if keys is None:
        keys = known[subscription_id] = signing_keys(
            sub.secret, sub.previous_secret, sub.previous_secret_expires_at, now
        )
    return keys


def _take(conn: Connection, expired: bool, limit: int, params: dict[str, Any]) -> list[int]:
    """Lease up to `limit` rows (with expired leases, or due); their ids (`take_statement`)."""
    statement = take_statement(conn.dialect.name, expired, "skipped" in params)
    return list(conn.execute(statement, {**params, "limit": limit}).scalars().all())


@dataclass(frozen=True)
class Recorded:
    delivered: int
    retrying: int
    dead: int
    disabled: tuple[str, ...]


class _Outcome(NamedTuple):
    """One delivery's outcome, worked out and ready to write."""

    claimed: Claimed
    result: AttemptResult
    decision: Decision
    attempt: tuple[Any, ...]  # the attempt row: delivery_id, status_code, latency_ms, excerpt, error


_ATTEMPT_COLUMNS = ("delivery_id", "status_code", "latency_ms", "response_excerpt", "error")


def record(
    conn: Connection,
    worker_id: str,
    now: datetime,
    outcomes: Sequence[tuple[Claimed, AttemptResult]],
    config: AlertsConfig,
    rng: random.Random,
) -> Recorded:
    """Write the outcome of attempts in one go: an attempt row each, the delivery's new state (only if
    this worker still holds it), and the subscriptions' health, disabling those that must be.

    Each delivery has its own error boundary: the batch is written in a savepoint; should that fail,
    each outcome is written alone, and one that still cannot be written is recorded as a failed
    attempt with the reason (or left in flight for its lease to bring back)."""
    if not outcomes:
        return Recorded(0, 0, 0, ())
    worked = [_work_out(claimed, result, now, config, rng) for claimed, result in outcomes]
    moved = quiet_retries(conn, [(o.claimed.subscription_id, o.decision) for o in worked])
    worked = [o._replace(decision=decision) for o, decision in zip(worked, moved, strict=True)]
    try:
        with conn.begin_nested():
            _write(conn, worker_id, now, worked)
        written = worked
    except Exception:  # one member's values broke the batch: write each alone
        written = [one for one in (_write_alone(conn, worker_id, now, o, config) for o in worked) if one is not None]
    disabled = update_health(conn, now, [(o.claimed.subscription_id, o.decision) for o in written], config)
    counts = Counter(o.decision.status for o in written)
    return Recorded(counts["delivered"], counts["pending"], counts["dead"], disabled)


def _work_out(
    claimed: Claimed, result: AttemptResult, now: datetime, config: AlertsConfig, rng: random.Random
) -> _Outcome:
    """The decision and attempt row of one outcome; an outcome that cannot be worked out (whatever
    the receiver answered) becomes a failed attempt that says why."""
    try:
        decision = decide(result, claimed.attempts + 1, now, config.retry_schedule, rng)
        excerpt = _storable(result.excerpt[:EXCERPT_CHARS] if result.excerpt is not None else None)
        attempt = (claimed.id, result.status_code, round(result.latency_ms, 3), excerpt, _storable(result.error))
        return _Outcome(claimed, result, decision, attempt)
    except Exception as exc:
        return _unrecordable(claimed, result, exc, now, config)


def _unrecordable(
    claimed: Claimed, result: AttemptResult, exc: Exception, now: datetime, config: AlertsConfig
) -> _Outcome:
    """A failed attempt standing for an outcome that could not be worked out or written: retried on
    the schedule (dead after its last step), with the reason as its error."""
    error = f"the answer could not be recorded ({type(exc).__name__}); it will be retried"
    code = result.status_code if isinstance(result.status_code, int) and 100 <= result.status_code <= 999 else None
    failed = AttemptResult(code, 0.0, error=error)
    schedule = config.retry_schedule
    attempts = claimed.attempts + 1
    decision = Decision("dead") if attempts > len(schedule) else Decision("pending", now + schedule[attempts - 1])
    return _Outcome(claimed, failed, decision, (claimed.id, code, 0.0, None, error))


def _write(conn: Connection, worker_id: str, now: datetime, worked: Sequence[_Outcome]) -> None:
    """The attempt rows and each delivery's new state, only where this worker still holds it:
    successes in one statement per status code (the common case, kept cheap), the rest row by row in
    one executemany."""
    insert_rows(conn, ATTEMPTS, _ATTEMPT_COLUMNS, [o.attempt for o in worked], shared={"at": now, "worker": worker_id})
    delivered: dict[int, list[int]] = {}
    others = []
    for claimed, result, decision, _ in worked:
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
        params = {**id_list(conn, ids), "code": code, "now": now, "worker": worker_id}
        conn.execute(delivered_statement(conn.dialect.name), params)
    if others:
        conn.execute(OTHER_OUTCOME, others)


def _write_alone(
    conn: Connection, worker_id: str, now: datetime, outcome: _Outcome, config: AlertsConfig
) -> _Outcome | None:
    """`_write` of one outcome in its own savepoint; failing that, a failed attempt that says why;
    failing that too, None (the delivery stays in flight until its lease runs out)."""
    try:
        with conn.begin_nested():
            _write(conn, worker_id, now, [outcome])
        return outcome
    except Exception as exc:
        failed = _unrecordable(outcome.claimed, outcome.result, exc, now, config)
    try:
        with conn.begin_nested():
            _write(conn, worker_id, now, [failed])
        return failed
    except Exception:
        return None


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
    held = update(DELIVERIES).where(among(conn.dialect.name, d.id), d.status == "in_flight", d.claimed_by == worker_id)
    return int(conn.execute(held.values(**values), id_list(conn, ids)).rowcount)


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
