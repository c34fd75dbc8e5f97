"""The outbox's side of `alerts.holds`: what a fan-out reads to decide what holds new deliveries
back (silences, quiet hours, digests), the rows it writes for them, and retries moved out of quiet
hours. Called by `alerts.outbox` in its transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from alerts.batch_rows import insert_rows
from alerts.digest_store import COLLECTED
from alerts.digests import DIGEST
from alerts.holds import Held, hold, quiet_due, quiet_hours
from alerts.policy import Decision, Filters, wants
from alerts.signing import new_webhook_id
from alerts.silence_store import active_silences
from alerts.sqltypes import json_strings
from alerts.statements import DELIVERIES, SUBSCRIPTIONS

SILENCED = "silenced"
_COLUMNS = ("notice_id", "subscription_id", "webhook_id")
_UNIQUE = ("notice_id", "subscription_id")


def addressed(notice_type: str, tags: str, subjects: str, sub_id: str, filters: Filters) -> bool:
    """Whether a notice goes to a subscription: a digest to the one subscription it is for (its
    first subject), any other notice by the subscription's filters."""
    if notice_type == DIGEST:
        return json_strings(subjects)[:1] == (sub_id,)
    return wants(filters, notice_type, json_strings(tags), json_strings(subjects))


def sort_pairs(conn: Connection, pairs: Iterable[tuple[Any, str]], rows: Sequence[Any], now: datetime) -> Held[Any]:
    """Sort a fan-out's (notice, subscription id) `pairs` by what becomes of them (`alerts.holds`),
    given the active subscriptions' `rows`. A notice is a fan-out's row: (id, type, tags, subjects...)."""
    quiet = quiet_hours({row.id: row.quiet for row in rows if row.quiet})
    digesting = {row.id for row in rows if row.digest}
    return hold(
        pairs,
        lambda pair: (pair[0][1], json_strings(pair[0][2]), json_strings(pair[0][3])),
        lambda pair: pair[1],
        active_silences(conn, now),
        quiet,
        now,
        digesting,
    )


def write_held(conn: Connection, held: Held[Any], now: datetime) -> int:
    """Insert the delivery rows of the held pairs: due at the end of quiet hours, silenced (with
    the silence's note), or collected for a digest. The count inserted."""
    base = {"attempts": 0, "lease_until": None, "claimed_by": None, "created_at": now, "updated_at": now}
    groups: dict[tuple[str, datetime | None, str | None], list[tuple[Any, ...]]] = {}
    for (notice, sub_id), due in held.later:
        groups.setdefault(("pending", due, None), []).append((notice[0], sub_id, new_webhook_id()))
    for (notice, sub_id), note in held.silenced:
        groups.setdefault((SILENCED, None, note), []).append((notice[0], sub_id, new_webhook_id()))
    for notice, sub_id in held.collected:
        groups.setdefault((COLLECTED, None, None), []).append((notice[0], sub_id, new_webhook_id()))
    created = 0
    for (status, at, why), rows in groups.items():
        shared = {**base, "status": status, "next_attempt_at": at, "last_error": why}
        created += insert_rows(conn, DELIVERIES, _COLUMNS, rows, shared=shared, unique=_UNIQUE)
    return created


def quiet_retries(conn: Connection, decisions: Sequence[tuple[str, Decision]]) -> list[Decision]:
    """The `decisions` (subscription id, decision) of a batch of outcomes, each retry that would come
    due inside its subscription's quiet hours moved to their end."""
    retrying = sorted({sub_id for sub_id, d in decisions if d.next_attempt_at is not None})
    quiet = {}
    if retrying:
        s = SUBSCRIPTIONS.c
        texts = conn.execute(select(s.id, s.quiet).where(s.id.in_(retrying), s.quiet.is_not(None))).all()
        quiet = quiet_hours({row.id: row.quiet for row in texts})
    return [
        replace(d, next_attempt_at=quiet_due(quiet[sub_id], d.next_attempt_at))
        if sub_id in quiet and d.next_attempt_at is not None
        else d
        for sub_id, d in decisions
    ]
