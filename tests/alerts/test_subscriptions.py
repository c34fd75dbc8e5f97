"""Subscription services and the config sync, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.errors import ConflictError, NotFoundError, SubscriptionError
from alerts.outbox import SUBSCRIPTIONS, fan_out
from alerts.outbox_reads import list_deliveries, recover, retry_delivery, status_counts
from alerts.subscriptions import (
    SubscriptionSpec,
    create_subscription,
    delete_subscription,
    get_subscription,
    list_subscriptions,
    rotate_secret,
    sync_config_subscriptions,
    update_subscription,
)
from tests.alerts.helpers import notice, publish_many, subscribe

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://hooks.example.org/x"
SECRET = "whsec_" + base64.b64encode(b"s" * 24).decode()


def test_create_returns_the_secret_once(engine: Engine, config: AlertsConfig) -> None:
    made = subscribe(engine, config, NOW, URL, events=["milestone.*"], tags=["a"], description="ops")
    assert made.secret.startswith("whsec_")
    assert made.subscription.id.startswith("sub_")
    view = made.subscription
    assert (view.url, view.format, view.events, view.tags, view.origin, view.active) == (
        URL,
        "standard",
        ("milestone.*",),
        ("a",),
        "api",
        True,
    )
    assert view.created_at == NOW
    assert not hasattr(view, "secret")
    with engine.connect() as conn:
        assert [s.id for s in list_subscriptions(conn)] == [view.id]
        assert get_subscription(conn, view.id) == view


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": ""}, "url"),
        ({"url": URL, "format": "teams"}, "format"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": "milestone.*"}, "events"),
        ({"url": URL, "tags": [""]}, "tags"),
        ({"url": URL, "concurrency": 0}, "concurrency"),
        ({"url": URL, "timeout_seconds": 600}, "timeout_seconds"),
    ],
)
def test_bad_fields_name_the_field(sqlite_engine: Engine, config: AlertsConfig, fields: dict, field: str) -> None:
    with pytest.raises(SubscriptionError) as caught, sqlite_engine.begin() as conn:
        create_subscription(conn, config, NOW, **fields)
    assert caught.value.field == field


def test_update_delete_and_rotate(engine: Engine, config: AlertsConfig) -> None:
    made = subscribe(engine, config, NOW, URL)
    sub = made.subscription.id
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        view = update_subscription(conn, config, sub, {"events": ["feed.*"], "concurrency": 2}, later)
    assert (view.events, view.concurrency, view.url, view.updated_at) == (("feed.*",), 2, URL, later)
    with pytest.raises(SubscriptionError) as caught, engine.begin() as conn:
        update_subscription(conn, config, sub, {"secret": "x"}, later)
    assert caught.value.field == "secret"
    with engine.begin() as conn:
        rotated = rotate_secret(conn, config, sub, later)
        row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == sub)).one()
    assert rotated.secret != made.secret
    assert (row.secret, row.previous_secret) == (rotated.secret, made.secret)
    assert row.previous_secret_expires_at == later + timedelta(hours=24)
    publish_many(engine, [notice("f", NOW, "feed.item_matched")], NOW)
    with engine.begin() as conn:
        fan_out(conn, NOW)
        assert delete_subscription(conn, sub, later) == 1
    with engine.connect() as conn:
        assert list_subscriptions(conn) == []
        assert status_counts(conn)["cancelled"] == 1
        with pytest.raises(NotFoundError):
            get_subscription(conn, sub)


def test_disable_and_enable(engine: Engine, config: AlertsConfig) -> None:
    sub = subscribe(engine, config, NOW, URL).subscription.id
    publish_many(engine, [notice("a", NOW)], NOW)
    with engine.begin() as conn:
        fan_out(conn, NOW)
        off = update_subscription(conn, config, sub, {"active": False}, NOW)
        (delivery,) = list_deliveries(conn)
    assert not off.active and off.disabled_reason == "disabled by a user"
    assert delivery.status == "cancelled"
    with pytest.raises(ConflictError), engine.begin() as conn:
        retry_delivery(conn, delivery.id, NOW)
    with pytest.raises(ConflictError), engine.begin() as conn:
        recover(conn, sub, NOW, NOW)
    with engine.begin() as conn:
        on = update_subscription(conn, config, sub, {"active": True}, NOW)
        assert on.active and on.disabled_reason is None
        assert recover(conn, sub, NOW - timedelta(days=1), NOW) == 1
        assert list_deliveries(conn, status="pending", subscription_id=sub)[0].webhook_id == delivery.webhook_id


def _spec(**fields: object) -> SubscriptionSpec:
    base: dict = {"id": "team", "url": URL, "events": ("milestone.*",), "secret": SECRET}
    return SubscriptionSpec(**{**base, **fields})


def test_config_sync_creates_updates_and_deactivates(engine: Engine, config: AlertsConfig) -> None:
    slack = _spec(id="slack", format="slack", secret=None)
    with engine.begin() as conn:
        first = sync_config_subscriptions(conn, config, [_spec(), slack], NOW)
    assert sorted(first.created) == ["slack", "team"]
    with engine.begin() as conn:
        assert sync_config_subscriptions(conn, config, [_spec(), slack], NOW).updated == ()
    new_secret = "whsec_" + base64.b64encode(b"t" * 32).decode()
    later = NOW + timedelta(hours=1)
    with engine.begin() as conn:
        second = sync_config_subscriptions(conn, config, [_spec(secret=new_secret, tags=("x",))], later)
        row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == "team")).one()
    assert (second.updated, second.deactivated) == (("team",), ("slack",))
    assert (row.secret, row.previous_secret, row.tags) == (new_secret, SECRET, ["x"])
    with engine.connect() as conn:
        assert not get_subscription(conn, "slack").active
        assert get_subscription(conn, "slack").disabled_reason == "removed from the config file"
    with engine.begin() as conn:
        third = sync_config_subscriptions(conn, config, [_spec(secret=new_secret, tags=("x",)), slack], later)
        assert third.updated == ("slack",) and get_subscription(conn, "slack").active


def test_config_subscriptions_are_owned_by_the_file(engine: Engine, config: AlertsConfig) -> None:
    with engine.begin() as conn:
        sync_config_subscriptions(conn, config, [_spec()], NOW)
    for change in (
        lambda conn: update_subscription(conn, config, "team", {"url": URL + "/y"}, NOW),
        lambda conn: delete_subscription(conn, "team", NOW),
        lambda conn: rotate_secret(conn, config, "team", NOW),
    ):
        with pytest.raises(ConflictError, match="config file"), engine.begin() as conn:
            change(conn)
    with engine.begin() as conn:
        assert not update_subscription(conn, config, "team", {"active": False}, NOW).active


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (_spec(secret=None), "secret"),
        (_spec(secret="whsec_nope!"), "secret"),
        (_spec(url="gopher://x"), "url"),
        (_spec(events=()), "events"),
    ],
)
def test_a_bad_spec_changes_nothing(
    sqlite_engine: Engine, config: AlertsConfig, spec: SubscriptionSpec, field: str
) -> None:
    with pytest.raises(SubscriptionError) as caught, sqlite_engine.begin() as conn:
        sync_config_subscriptions(conn, config, [_spec(id="good"), spec], NOW)
    assert caught.value.field == field and "'team'" in str(caught.value)
    with sqlite_engine.connect() as conn:
        assert list_subscriptions(conn) == []


def test_a_config_id_cannot_take_over_an_api_subscription(sqlite_engine: Engine, config: AlertsConfig) -> None:
    sub = subscribe(sqlite_engine, config, NOW, URL).subscription.id
    with pytest.raises(SubscriptionError, match="created through the API"), sqlite_engine.begin() as conn:
        sync_config_subscriptions(conn, config, [_spec(id=sub)], NOW)
