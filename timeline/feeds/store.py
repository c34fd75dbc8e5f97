"""Feed rows: applying the config (`sync_feeds`), claiming due feeds, saving a poll's state.

Claims are safe with any number of workers: the due rows are picked as the outbox picks deliveries
(`alerts.claim_pick.picked`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the write lock of a
`BEGIN IMMEDIATE` transaction on SQLite). A claim moves `next_poll_at` forward by `LEASE`
and sets a fresh `claim_token`; the state is saved only `WHERE claim_token = <ours>`.
"""

from __future__ import annotations

import functools
import json
import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, bindparam, select, update

from alerts.batch_rows import Columns, rows_params, rows_source
from alerts.claim_pick import picked
from alerts.reconcile import Plan, reconcile
from alerts.sqltypes import json_strings, stored_text
from timeline.config.feeds import FeedSpec, load_feeds
from timeline.db import write_transaction
from timeline.feeds.decide import FeedState
from timeline.feeds.match import Rule
from timeline.feeds.models import Feed

FEEDS: Table = Feed.__table__  # type: ignore[attr-defined]
LEASE = timedelta(minutes=15)
"""How long a claim lasts before another worker may claim the feed again (its worker died). A
claimed feed may wait for a fetch slot behind the rest of its claim: ten rounds of the concurrency
(timeline.feeds.poll.CLAIM_BATCH) at the longest timeout (MAX_TIMEOUT, 60 s) is ten minutes, plus
its own fetch and the write."""

_STATE_COLUMNS = (
    "status",
    "fetch_url",
    "etag",
    "last_modified",
    "body_hash",
    "consecutive_failures",
    "last_error",
    "last_status_code",
    "last_polled_at",
    "last_success_at",
    "failing_since",
    "failing_notified_at",
    "next_poll_at",
)


@dataclass(frozen=True)
class FeedRow:
    """A feed as stored: its config and its polling state."""

    id: str
    url: str
    name: str
    timeout: float
    max_bytes: int
    rule: Rule | None
    milestones: tuple[str, ...]
    tags: tuple[str, ...]
    notify_backlog: bool
    notify_updates: bool
    backlog_done: bool
    state: FeedState
    claim_token: str | None = None
    lang: str | None = None

    @property
    def fetch_url(self) -> str:
        """Where to fetch: the target of a recorded permanent redirect, else the configured URL."""
        return self.state.fetch_url or self.url


_ROW_COLUMNS = (
    "id",
    "url",
    "name",
    "interval_seconds",
    "timeout_seconds",
    "max_bytes",
    "rule",
    "milestones",
    "tags",
    "notify_backlog",
    "notify_updates",
    "backlog_done",
    "claim_token",
    "lang",
    *_STATE_COLUMNS,
)
"""What a FeedRow is made of (selected by name: timestamps of the row itself are left out). The state
columns come last, in the order of FeedState's fields (a test keeps them so)."""
_CONFIG_WIDTH = len(_ROW_COLUMNS) - len(_STATE_COLUMNS)
_AS_TEXT = frozenset({"rule", "milestones", "tags"})
"""JSON columns a claim reads as text: thousands of feeds share a handful of values, decoded once each
(`_rule`, `json_strings`) instead of once per row."""
_CLAIMED = tuple(stored_text(FEEDS.c[c]) if c in _AS_TEXT else FEEDS.c[c] for c in _ROW_COLUMNS)


@functools.lru_cache(maxsize=1024)
def _rule(text: str | None) -> Rule | None:
    return None if text is None else Rule.from_dict(json.loads(text))


def to_row(row: Row[Any]) -> FeedRow:
    """A FeedRow from a row of `_CLAIMED`, by position (a claim builds thousands)."""
    values: tuple[Any, ...] = tuple(row)
    config, state = values[:_CONFIG_WIDTH], values[_CONFIG_WIDTH:]
    fid, url, name, interval, timeout, max_bytes, rule, milestones, tags, backlog, updates, done, token, lang = config
    return FeedRow(
        id=fid,
        url=url,
        name=name,
        timeout=timeout,
        max_bytes=max_bytes,
        rule=_rule(rule),
        milestones=json_strings(milestones),
        tags=json_strings(tags),
        notify_backlog=backlog,
        notify_updates=updates,
        backlog_done=done,
        state=FeedState(timedelta(seconds=interval), *state),
        claim_token=token,
        lang=lang,
    )


@dataclass
class FeedsSync:
    """What `sync_feeds` changed, by feed id."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)


def _config_values(spec: FeedSpec) -> dict[str, Any]:
    return {
        "url": spec.url,
        "name": spec.name,
        "interval_seconds": spec.interval.total_seconds(),
        "timeout_seconds": spec.timeout.total_seconds(),
        "max_bytes": spec.max_bytes,
        "rule": spec.rule.as_dict() if spec.rule else None,
        "milestones": list(spec.milestones),
        "tags": list(spec.tags),
        "notify_backlog": spec.notify_backlog,
        "notify_updates": spec.notify_updates,
        "lang": spec.lang,
    }


def sync_feeds(conn: Connection, specs: Sequence[FeedSpec], now: datetime) -> FeedsSync:
    """Make the feed rows say what `specs` say: new feeds are due now, a changed URL starts over
    (state reset, its items are a backlog again, a poll in flight is dropped), feeds gone from the
    config are deactivated (their entries and evidence stay)."""
    stored = {r.id: r for r in conn.execute(select(FEEDS))}
    plan = diff_feeds({spec.id: spec for spec in specs}, stored, now)
    for spec in plan.add.values():
        conn.execute(
            FEEDS.insert().values(
                id=spec.id,
                active=True,
                status="new",
                consecutive_failures=0,
                backlog_done=False,
                next_poll_at=now,
                created_at=now,
                updated_at=now,
                **_config_values(spec),
            )
        )
    for feed_id, changes in plan.change.items():
        conn.execute(update(FEEDS).where(FEEDS.c.id == feed_id).values(**changes))
    if plan.retire:
        conn.execute(
            update(FEEDS).where(FEEDS.c.id.in_(plan.retire)).values(active=False, claim_token=None, updated_at=now)
        )
    return FeedsSync(list(plan.add), list(plan.change), list(plan.retire))


def diff_feeds(wanted: Mapping[str, FeedSpec], stored: Mapping[str, Row[Any]], now: datetime) -> Plan[FeedSpec]:
    """What `sync_feeds` will write (pure): the feeds to add, the changed columns of each changed
    feed, the active feeds no longer declared."""
    return reconcile(
        wanted, stored, changes=lambda row, spec: _feed_changes(row, spec, now), retirable=lambda row: bool(row.active)
    )


def _feed_changes(old: Row[Any], spec: FeedSpec, now: datetime) -> dict[str, Any]:
    values = _config_values(spec)
    changes = {k: v for k, v in values.items() if old._mapping[k] != v}
    if old.active and not changes:
        return {}
    changes.update(active=True, updated_at=now)
    if "url" in changes:
        # A poll in flight fetched the old URL: clearing its claim drops its result.
        changes.update(
            fetch_url=None,
            etag=None,
            last_modified=None,
            body_hash=None,
            backlog_done=False,
            next_poll_at=now,
            claim_token=None,
        )
    elif not old.active or old.next_poll_at > now + spec.interval:
        changes["next_poll_at"] = now
    return changes


def claim_due(
    engine: Engine, now: datetime, *, limit: int, feed_ids: Sequence[str] | None = None, force: bool = False
) -> list[FeedRow]:
    """Claim up to `limit` active feeds due at `now` (any of `feed_ids`, due or not, with `force`).

    Picked in the order of the due index alone (a tie-break by id would sort every due row), with
    `alerts.claim_pick.picked`, and updated by primary key.
    """
    token = uuid.uuid4().hex
    pick = select(FEEDS.c.id).where(FEEDS.c.active.is_(True))
    if feed_ids is not None:
        pick = pick.where(FEEDS.c.id.in_(list(feed_ids)))
    if not force:
        pick = pick.where(FEEDS.c.next_poll_at <= now)
    pick = pick.order_by(FEEDS.c.next_poll_at).limit(limit)
    with write_transaction(engine) as conn:
        statement = (
            update(FEEDS)
            .where(picked(conn.dialect.name, FEEDS.c.id, pick, FEEDS))
            .values(next_poll_at=now + LEASE, claim_token=token)
            .returning(*_CLAIMED)
        )
        rows = conn.execute(statement).all()
    return sorted((to_row(r) for r in rows), key=lambda f: f.id)


class LostClaim(Exception):
    """Another worker claimed the feed after our lease ran out: our result is dropped."""


def save_state(conn: Connection, feed: FeedRow, state: FeedState, now: datetime, *, backlog_done: bool) -> None:
    """Write the state a poll decided, if the claim is still ours; LostClaim otherwise."""
    if _write_changes(conn, [(feed, state, backlog_done)], now) != 1:
        raise LostClaim(feed.id)


def release_claims(engine: Engine, feeds: Sequence[FeedRow], now: datetime) -> int:
    """Hand back claims that will not be polled (the worker is stopping): due at `now`, claimable
    at once by another worker, the state otherwise untouched. The count released (a claim that is no
    longer ours is left alone)."""
    if not feeds:
        return 0
    with write_transaction(engine) as conn:
        return _update_claimed(conn, (), [[f.id, f.claim_token] for f in feeds], now, next_poll_at=now)


def owned_claims(conn: Connection, feeds: Sequence[FeedRow]) -> set[str]:
    """Which of `feeds` are still claimed by us, locked until the end of the transaction (the
    transaction is IMMEDIATE on SQLite; the rows are selected FOR UPDATE on PostgreSQL)."""
    owned: set[str] = set()
    tokens = {f.id: f.claim_token for f in feeds}
    ids = list(tokens)
    for start in range(0, len(ids), 500):
        query = (
            select(FEEDS.c.id, FEEDS.c.claim_token).where(FEEDS.c.id.in_(ids[start : start + 500])).with_for_update()
        )
        owned.update(fid for fid, token in conn.execute(query) if token is not None and token == tokens[fid])
    return owned


def save_states(conn: Connection, updates: Sequence[tuple[FeedRow, FeedState, bool]], now: datetime) -> set[str]:
    """`save_state` for many feeds at once; returns the ids whose claim was lost (nothing written
    for those).

    Only the columns that differ from the claimed row are written (a 304 moves three timestamps),
    one UPDATE per set of changed columns, each row guarded by its claim token. When a guard
    misses (rare: a lease ran out), the batch is rolled back to its savepoint and written again for
    the claims `owned_claims` confirms.
    """
    if not updates:
        return set()
    with conn.begin_nested() as savepoint:
        if _write_changes(conn, updates, now) == len(updates):
            return set()
        savepoint.rollback()
    owned = owned_claims(conn, [feed for feed, _, _ in updates])
    _write_changes(conn, [u for u in updates if u[0].id in owned], now)
    return {feed.id for feed, _, _ in updates} - owned


_state_values = operator.attrgetter(*_STATE_COLUMNS)
"""A state's stored columns as one tuple, in one C call (a write batch compares thousands)."""


def _write_changes(conn: Connection, updates: Sequence[tuple[FeedRow, FeedState, bool]], now: datetime) -> int:
    """Write what changed of each feed's state, guarded by its claim token; the count written. Feeds
    that changed the same columns (a 304 moves the same three timestamps) share one statement: an
    UPDATE from the batch sent as one table (`alerts.batch_rows.rows_source`)."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for feed, state, backlog_done in updates:
        names: list[str] = []
        values: list[Any] = [feed.id, feed.claim_token]
        for column, value, before in zip(_STATE_COLUMNS, _state_values(state), _state_values(feed.state), strict=True):
            if value != before:
                names.append(column)
                values.append(value)
        if backlog_done != feed.backlog_done:
            names.append("backlog_done")
            values.append(backlog_done)
        groups.setdefault(tuple(names), []).append(values)
    return sum(_update_claimed(conn, columns, rows, now) for columns, rows in groups.items())


def _update_claimed(
    conn: Connection, columns: Sequence[str], rows: Sequence[Sequence[Any]], now: datetime, **values: Any
) -> int:
    """One UPDATE from `rows` ([feed id, claim token, *values of `columns`]), where the claim token
    still matches: the columns set, the claim cleared, `values` set on all. The count updated."""
    typed = _KEYS + tuple((c, FEEDS.c[c].type) for c in columns)
    statement = _claimed_update(conn.dialect.name, typed, tuple(values))
    params = rows_params(conn, typed, rows)
    params.update({f"set_{name}": value for name, value in values.items()}, set_updated_at=now)
    return int(conn.execute(statement, params).rowcount)


_KEYS = (("feed_id", FEEDS.c.id.type), ("token", FEEDS.c.claim_token.type))


@functools.lru_cache(maxsize=256)
def _claimed_update(dialect: str, columns: Columns, values: tuple[str, ...]) -> Any:
    """`_update_claimed`'s statement for these columns, built once (a poll cycle runs it per batch)."""
    source = rows_source(dialect, columns)
    bound = {name: bindparam(f"set_{name}", type_=FEEDS.c[name].type) for name in (*values, "updated_at")}
    return (
        update(FEEDS)
        .where(FEEDS.c.id == source.c.feed_id, FEEDS.c.claim_token == source.c.token)
        .values({name: source.c[name] for name, _ in columns[len(_KEYS) :]})
        .values(claim_token=None, **bound)
    )


def apply_feeds_file(engine: Engine, path: Path, now: datetime) -> FeedsSync:
    """Load `path` and sync the feed rows to it. A broken file raises ConfigError before anything is
    written: the feeds keep running as they were."""
    specs = load_feeds(path)
    with write_transaction(engine) as conn:
        return sync_feeds(conn, specs, now)
