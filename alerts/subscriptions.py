"""Managing subscriptions: the plain functions the API, the CLI and the config sync call.

Each takes a connection (the caller owns the transaction) and `now`. A subscription's secret is
returned only by `create_subscription` and `rotate_secret`. Subscriptions declared in the config file
(`origin="config"`) belong to it: `sync_config_subscriptions` writes them, and the API may only
enable or disable them. Deleting a subscription deactivates it (its delivery history stays).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from alerts.channel_fields import addresses
from alerts.config import AlertsConfig
from alerts.errors import ConflictError, NotFoundError, SubscriptionError
from alerts.health import REMOVED_FROM_CONFIG, cancel_pending
from alerts.reconcile import reconcile
from alerts.signing import check_secret, new_secret
from alerts.statements import SUBSCRIPTIONS
from alerts.subscription_fields import check_reachable, validate

DELETED = "deleted"


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription as shown to users: everything but its secrets."""

    id: str
    url: str
    format: str
    description: str | None
    events: tuple[str, ...]
    tags: tuple[str, ...]
    subjects: tuple[str, ...]
    origin: str
    active: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    last_success_at: datetime | None
    concurrency: int | None
    timeout_seconds: float | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    to: tuple[str, ...] = ()
    quiet: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class WithSecret:
    """A subscription and its signing secret, shown this once."""

    subscription: SubscriptionView
    secret: str


@dataclass(frozen=True)
class SubscriptionSpec:
    """A subscription declared in the config file. `secret` comes from the environment variable the
    file names; it is required for format `standard`."""

    id: str
    url: str
    format: str = "standard"
    events: tuple[str, ...] = ("*",)
    tags: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()
    secret: str | None = None
    description: str | None = None
    to: tuple[str, ...] = ()
    quiet: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class SyncResult:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    deactivated: tuple[str, ...]


def _view(row: Row[Any]) -> SubscriptionView:
    return SubscriptionView(
        id=row.id,
        url=row.url,
        format=row.format,
        description=row.description,
        events=tuple(row.events),
        tags=tuple(row.tags),
        subjects=tuple(row.subjects),
        origin=row.origin,
        active=row.active,
        disabled_reason=row.disabled_reason,
        disabled_at=row.disabled_at,
        failing_since=row.failing_since,
        last_success_at=row.last_success_at,
        concurrency=row.concurrency,
        timeout_seconds=row.timeout_seconds,
        previous_secret_expires_at=row.previous_secret_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        to=addresses(row.url) if row.format == "email" else (),
        quiet=row.quiet,
        digest=row.digest,
    )


def _row(conn: Connection, subscription_id: str) -> Row[Any]:
    row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == subscription_id)).one_or_none()
    if row is None or row.disabled_reason == DELETED:
        raise NotFoundError(f"no subscription {subscription_id!r}")
    return row


def create_subscription(
    conn: Connection,
    config: AlertsConfig,
    now: datetime,
    *,
    url: str | None = None,
    format: str = "standard",
    events: Sequence[str] = ("*",),
    tags: Sequence[str] = (),
    subjects: Sequence[str] = (),
    description: str | None = None,
    concurrency: int | None = None,
    timeout_seconds: float | None = None,
    to: Sequence[str] | None = None,
    quiet: str | None = None,
    digest: str | None = None,
) -> WithSecret:
    """Create a subscription (origin `api`) with a fresh `whsec_` secret, returned this once. An
    email subscription names its addresses in `to` instead of a `url`."""
    fields = validate(
        {
            "url": url,
            "to": to,
            "quiet": quiet,
            "digest": digest,
            "format": format,
            "events": events,
            "tags": tags,
            "subjects": subjects,
            "description": description,
            "concurrency": concurrency,
            "timeout_seconds": timeout_seconds,
        },
        config,
    )
    check_reachable(fields["url"], config)
    secret = new_secret()
    subscription_id = "sub_" + secrets.token_hex(8)
    conn.execute(
        insert(SUBSCRIPTIONS).values(
            id=subscription_id, secret=secret, origin="api", active=True, created_at=now, updated_at=now, **fields
        )
    )
    return WithSecret(_view(_row(conn, subscription_id)), secret)


def list_subscriptions(conn: Connection, *, active: bool | None = None) -> list[SubscriptionView]:
    """Every subscription not deleted, by id; only the active (or inactive) ones if `active` says so."""
    s = SUBSCRIPTIONS.c
    query = select(SUBSCRIPTIONS).where(s.disabled_reason.is_distinct_from(DELETED)).order_by(s.id)
    if active is not None:
        query = query.where(s.active.is_(active))
    return [_view(row) for row in conn.execute(query)]


def get_subscription(conn: Connection, subscription_id: str) -> SubscriptionView:
    return _view(_row(conn, subscription_id))


def update_subscription(
    conn: Connection, config: AlertsConfig, subscription_id: str, changes: Mapping[str, Any], now: datetime
) -> SubscriptionView:
    """Apply a PATCH: only the fields present in `changes` change. Enabling a disabled subscription
    clears its reason and failure clock; disabling it cancels its pending deliveries."""
    row = _row(conn, subscription_id)
    fields = validate(changes, config, row.format)
    if row.origin == "config" and set(fields) - {"active"}:
        raise ConflictError(f"subscription {subscription_id!r} is declared in the config file: edit it there")
    if "url" in fields and fields["url"] != row.url:
        check_reachable(fields["url"], config)
    if fields.get("active") is True and not row.active:
        fields.update(disabled_reason=None, disabled_at=None, failing_since=None)
    elif fields.get("active") is False and row.active:
        fields.update(disabled_reason="disabled by a user", disabled_at=now)
        cancel_pending(conn, subscription_id, "subscription disabled by a user", now)
    if fields:
        conn.execute(
            update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == subscription_id).values(updated_at=now, **fields)
        )
    return _view(_row(conn, subscription_id))


def delete_subscription(conn: Connection, subscription_id: str, now: datetime) -> int:
    """Deactivate a subscription for good and cancel its pending deliveries; the count cancelled."""
    row = _row(conn, subscription_id)
    if row.origin == "config":
        raise ConflictError(f"subscription {subscription_id!r} is declared in the config file: remove it there")
    conn.execute(
        update(SUBSCRIPTIONS)
        .where(SUBSCRIPTIONS.c.id == subscription_id)
        .values(active=False, disabled_reason=DELETED, disabled_at=now, updated_at=now)
    )
    return cancel_pending(conn, subscription_id, "subscription deleted", now)


def rotate_secret(conn: Connection, config: AlertsConfig, subscription_id: str, now: datetime) -> WithSecret:
    """Give a subscription a new secret, returned this once; the old one keeps signing alongside for
    `config.rotation_overlap` (24 h), so receivers can switch without losing a notice."""
    row = _row(conn, subscription_id)
    if row.origin == "config":
        raise ConflictError(f"subscription {subscription_id!r} takes its secret from the config file's environment")
    secret = new_secret()
    conn.execute(
        update(SUBSCRIPTIONS)
        .where(SUBSCRIPTIONS.c.id == subscription_id)
        .values(
            secret=secret,
            previous_secret=row.secret,
            previous_secret_expires_at=now + config.rotation_overlap if row.secret else None,
            updated_at=now,
        )
    )
    return WithSecret(_view(_row(conn, subscription_id)), secret)


def validate_spec(spec: SubscriptionSpec, config: AlertsConfig) -> dict[str, Any]:
    """The checked fields of a config-declared subscription; SubscriptionError names the field."""
    if not spec.id.strip() or len(spec.id) > 200:
        raise SubscriptionError("id is required (at most 200 characters)", field="id")
    fields = validate(
        {
            "url": spec.url or None,
            "to": spec.to or None,
            "quiet": spec.quiet,
            "digest": spec.digest,
            "format": spec.format,
            "events": spec.events,
            "tags": spec.tags,
            "subjects": spec.subjects,
            "description": spec.description,
        },
        config,
    )
    if spec.secret is not None:
        fields["secret"] = check_secret(spec.secret)
    elif spec.format == "standard":
        raise SubscriptionError("format standard needs a signing secret (secret_env)", field="secret")
    else:
        fields["secret"] = None
    return fields


def sync_config_subscriptions(
    conn: Connection, config: AlertsConfig, specs: Sequence[SubscriptionSpec], now: datetime
) -> SyncResult:
    """Make the config-declared subscriptions match `specs`: create, update (a changed secret rotates
    with the usual overlap), and deactivate those no longer listed. A deactivated one keeps its
    pending deliveries paused: listed again within `config.removed_grace` it resumes them (after
    that, `alerts.health.cancel_orphans` cancels them). Validates every spec first, so a
    bad one changes nothing; its error names the subscription and the field."""
    wanted: dict[str, dict[str, Any]] = {}
    for spec in specs:
        try:
            wanted[spec.id] = validate_spec(spec, config)
        except SubscriptionError as exc:
            raise SubscriptionError(f"subscription {spec.id!r}: {exc}", field=exc.field) from None
    if len(wanted) != len(specs):
        raise SubscriptionError("two subscriptions share an id", field="id")
    s = SUBSCRIPTIONS.c
    stored = {
        row.id: row
        for row in conn.execute(select(SUBSCRIPTIONS).where(s.id.in_(sorted(wanted)) | (s.origin == "config")))
    }
    taken = [sub_id for sub_id in wanted if sub_id in stored and stored[sub_id].origin != "config"]
    if taken:
        raise SubscriptionError(f"subscription {taken[0]!r} already exists, created through the API", field="id")
    plan = reconcile(
        wanted,
        stored,
        changes=lambda row, fields: _config_changes(row, fields, now, config.rotation_overlap),
        retirable=lambda row: row.origin == "config" and bool(row.active),
    )
    for sub_id, url in [(i, f["url"]) for i, f in plan.add.items()] + [
        (i, c["url"]) for i, c in plan.change.items() if "url" in c
    ]:
        _check_config_target(sub_id, url, config)
    for sub_id, fields in plan.add.items():
        conn.execute(
            insert(SUBSCRIPTIONS).values(
                id=sub_id, origin="config", active=True, created_at=now, updated_at=now, **fields
            )
        )
    for sub_id, changes in plan.change.items():
        conn.execute(update(SUBSCRIPTIONS).where(s.id == sub_id).values(updated_at=now, **changes))
    if plan.retire:
        conn.execute(
            update(SUBSCRIPTIONS)
            .where(s.id.in_(plan.retire))
            .values(active=False, disabled_reason=REMOVED_FROM_CONFIG, disabled_at=now, updated_at=now)
        )
    return SyncResult(tuple(plan.add), tuple(plan.change), plan.retire)


def _check_config_target(subscription_id: str, url: str, config: AlertsConfig) -> None:
    try:
        check_reachable(url, config)
    except SubscriptionError as exc:
        raise SubscriptionError(f"subscription {subscription_id!r}: {exc}", field=exc.field) from None


def _config_changes(row: Row[Any], fields: dict[str, Any], now: datetime, overlap: timedelta) -> dict[str, Any]:
    changes = {
        name: value
        for name, value in fields.items()
        if (list(getattr(row, name)) if isinstance(value, list) else getattr(row, name)) != value
    }
    if "secret" in changes and row.secret:
        changes.update(previous_secret=row.secret, previous_secret_expires_at=now + overlap)
    if not row.active and (row.disabled_reason == REMOVED_FROM_CONFIG or "url" in changes):
        changes.update(active=True, disabled_reason=None, disabled_at=None, failing_since=None)
    return changes
