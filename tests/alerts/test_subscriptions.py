"""Subscription services and the config sync, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.errors import ConflictError, NotFoundError, SubscriptionError, UnsafeTargetError
from alerts.health import cancel_orphans
from alerts.outbox import SUBSCRIPTIONS, fan_out
from alerts.outbox_reads import list_deliveries, recover, retry_delivery, status_counts
from alerts.sending import run_deliveries
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
from tests.alerts.receiver import Receiver

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


@pytest.mark.parametrize("url", ["http://localhost:8080/hook", "http://LocalHost./x", "https://api.localhost/hook"])
def test_loopback_names_are_refused_at_creation_unless_the_settings_open_them(sqlite_engine: Engine, url: str) -> None:
    guarded = AlertsConfig(allow_private_setting="APP_ALLOW_PRIVATE", allow_cidrs_setting="APP_ALLOW_CIDRS")
    with sqlite_engine.begin() as conn, pytest.raises(UnsafeTargetError) as refused:
        create_subscription(conn, guarded, NOW, url=url)
    assert refused.value.field == "url"
    assert "names a loopback address" in str(refused.value) and "APP_ALLOW_PRIVATE=true" in str(refused.value)
    for opened in (AlertsConfig(allow_private=True), AlertsConfig(allow_cidrs=("127.0.0.0/8", "::1/128"))):
        with sqlite_engine.begin() as conn:
            assert create_subscription(conn, opened, NOW, url=url).subscription.url == url


def _resolver(table: dict[str, list[str]]) -> Callable[[str], list[str]]:
    return lambda host: table.get(host, [])


def test_a_name_that_resolves_only_to_refused_addresses_is_refused_at_creation(sqlite_engine: Engine) -> None:
    resolve = _resolver({"intranet.example": ["10.0.0.5", "fd12::5"], "mixed.example": ["10.0.0.6", "93.184.216.34"]})
    config = AlertsConfig(resolve=resolve, allow_cidrs_setting="APP_ALLOW_CIDRS")
    with sqlite_engine.begin() as conn, pytest.raises(UnsafeTargetError) as refused:
        create_subscription(conn, config, NOW, url="https://intranet.example/hook")
    message = str(refused.value)
    assert "intranet.example resolves only to refused addresses" in message and "private" in message
    assert refused.value.field == "url"
    with sqlite_engine.begin() as conn:
        # One allowed address is enough (each connection is checked again); a name that does not
        # resolve now is let through the same way.
        for url in ("https://mixed.example/hook", "https://unknown.example/hook"):
            assert create_subscription(conn, config, NOW, url=url).subscription.url == url
        opened = AlertsConfig(resolve=resolve, allow_cidrs=("10.0.0.0/8", "fd00::/8"))
        assert create_subscription(conn, opened, NOW, url="https://intranet.example/hook").subscription.active


def test_a_config_subscription_whose_name_reaches_only_refused_addresses_is_refused_by_sync(
    sqlite_engine: Engine,
) -> None:
    config = AlertsConfig(resolve=_resolver({"metadata.example": ["169.254.169.254"]}), allow_private=True)
    with sqlite_engine.begin() as conn, pytest.raises(SubscriptionError) as refused:
        sync_config_subscriptions(conn, config, [_spec(url="http://metadata.example/x")], NOW)
    assert "subscription 'team'" in str(refused.value) and "cloud metadata" in str(refused.value)
    assert refused.value.field == "url"


@pytest.mark.parametrize("field", ["events", "tags", "subjects"])
def test_patterns_are_capped_per_subscription(sqlite_engine: Engine, config: AlertsConfig, field: str) -> None:
    with sqlite_engine.begin() as conn:
        at_limit = create_subscription(conn, config, NOW, url=URL, **{field: [f"p{i}*" for i in range(100)]})
        assert len(getattr(at_limit.subscription, field)) == 100
        with pytest.raises(SubscriptionError) as refused:
            create_subscription(conn, config, NOW, url=URL, **{field: [f"p{i}*" for i in range(101)]})
    assert refused.value.field == field
    assert str(refused.value) == f"{field} holds at most 100 entries (it has 101)"


def test_a_subscription_removed_from_the_file_and_put_back_delivers_its_pending_once(
    engine: Engine, config: AlertsConfig, receiver: Receiver
) -> None:
    """Removed from subscriptions.yaml, its pending deliveries are paused, not cancelled; put back
    within the grace, every one is delivered, once."""
    spec = _spec(url=receiver.url("/team"))
    with engine.begin() as conn:
        sync_config_subscriptions(conn, config, [spec], NOW)
    publish_many(engine, [notice(f"n{i}", NOW) for i in range(4)], NOW)
    with engine.begin() as conn:
        assert fan_out(conn, NOW).deliveries == 4
        assert sync_config_subscriptions(conn, config, [], NOW).deactivated == ("team",)
    later = NOW + timedelta(minutes=30)
    paused = asyncio.run(run_deliveries(engine, config, later, "w1"))
    assert (paused.delivered, receiver.received) == (0, [])
    with engine.connect() as conn:
        assert status_counts(conn)["pending"] == 4
    with engine.begin() as conn:
        assert sync_config_subscriptions(conn, config, [spec], later).updated == ("team",)
    resumed = asyncio.run(run_deliveries(engine, config, later, "w1"))
    assert resumed.delivered == 4
    ids = [r.headers["webhook-id"] for r in receiver.at("/team")]
    assert len(ids) == len(set(ids)) == 4


def test_paused_deliveries_are_cancelled_with_the_reason_after_the_grace(engine: Engine, config: AlertsConfig) -> None:
    with engine.begin() as conn:
        sync_config_subscriptions(conn, config, [_spec()], NOW)
    publish_many(engine, [notice(f"n{i}", NOW) for i in range(2)], NOW)
    with engine.begin() as conn:
        fan_out(conn, NOW)
        sync_config_subscriptions(conn, config, [], NOW)
    with engine.begin() as conn:
        assert cancel_orphans(conn, NOW + config.removed_grace - timedelta(seconds=1), config) == 0
        assert cancel_orphans(conn, NOW + config.removed_grace, config) == 2
        (cancelled, _) = list_deliveries(conn, status="cancelled")
    assert cancelled.last_error == "subscription removed from the config file for more than 1 hour"
