"""Subscription health: the success and failure clocks an outcome batch moves, disabling a
subscription that keeps failing (or whose target is gone), and cancelling what it left pending.

A subscription that disappears from the config file is made inactive but its pending deliveries
are only paused (claims skip inactive subscriptions): if it comes back within `removed_grace` they
resume; after that `cancel_orphans` cancels them with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, select, update

from alerts.config import AlertsConfig
from alerts.message import own_message
from alerts.notices import NewNotice, publish
from alerts.policy import Decision, should_disable
from alerts.statements import DELIVERIES, HEALTH, SUBSCRIPTIONS

REMOVED_FROM_CONFIG = "removed from the config file"


def update_health(
    conn: Connection, now: datetime, outcomes: Sequence[tuple[str, Decision]], config: AlertsConfig
) -> tuple[str, ...]:
    """Move the success and failure clocks of the subscriptions of `outcomes` (subscription id and
    decision of each attempt), disabling those that must be; the ids disabled."""
    by_sub: dict[str, list[Decision]] = {}
    for subscription_id, decision in outcomes:
        by_sub.setdefault(subscription_id, []).append(decision)
    s = SUBSCRIPTIONS.c
    # In id order: workers recording at the same time lock the subscriptions they share in the same
    # order, so they queue instead of deadlocking.
    rows = conn.execute(HEALTH, {"ids": sorted(by_sub)}).all()
    disabled: list[str] = []
    for row in rows:
        decisions = by_sub[row.id]
        if any(dec.status == "delivered" for dec in decisions):
            healthy = row.failing_since is None and row.last_success_at is not None
            if healthy and now - row.last_success_at < config.tuning.success_write_every:
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
        reason = next((dec.disable_reason for dec in decisions if dec.disable_reason), None)
        if reason is None and should_disable(failing_since, row.last_success_at, now, config.disable_after):
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
    data: dict[str, Any] = {
        "subscription_id": subscription_id,
        # The host only: a path may hold a token (Slack and Discord URLs do).
        "host": urlsplit(url).hostname,
        "reason": reason,
        "title": f"Webhook {subscription_id} disabled",
    }
    data["message"] = own_message("subscription.disabled", data).as_dict()
    notice = NewNotice(
        type="subscription.disabled",
        key=f"subscription.disabled:{subscription_id}:{now.isoformat()}",
        occurred_at=now,
        data=data,
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


def cancel_orphans(conn: Connection, now: datetime, config: AlertsConfig) -> int:
    """Cancel what inactive subscriptions left pending; the count cancelled.

    - Made inactive in the last `orphan_window` (not by leaving the config file): on PostgreSQL a
      fan-out that read a subscription as active can commit its new rows just after the
      subscription was disabled or deleted, whose own cancelling could not see them yet: no claim
      takes them, so without this they would stay pending for good.
    - Removed from the config file more than `removed_grace` ago: their paused deliveries.
    """
    s = SUBSCRIPTIONS.c
    recent = (s.disabled_at >= now - config.tuning.orphan_window) & (s.disabled_reason != REMOVED_FROM_CONFIG)
    expired = (s.disabled_reason == REMOVED_FROM_CONFIG) & (s.disabled_at <= now - config.removed_grace)
    found = conn.execute(select(s.id, s.disabled_reason).where(s.active.is_(False), recent | expired)).all()
    grace = _duration(config.removed_grace)
    return sum(
        cancel_pending(
            conn,
            sub_id,
            f"subscription {REMOVED_FROM_CONFIG} for more than {grace}"
            if reason == REMOVED_FROM_CONFIG
            else f"subscription inactive: {reason}",
            now,
        )
        for sub_id, reason in found
    )


def _duration(wait: timedelta) -> str:
    """A grace period in words: "1 hour", "90 minutes"."""
    seconds = int(wait.total_seconds())
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour" + ("s" if hours != 1 else "")
    minutes = max(1, seconds // 60)
    return f"{minutes} minute" + ("s" if minutes != 1 else "")
