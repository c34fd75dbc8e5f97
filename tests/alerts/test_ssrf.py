"""The SSRF guard end to end, with the guard on. Only loopback is ever contacted; the other ranges
are covered through the pure `refusal` function in test_policy.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import Engine, insert

from alerts.config import AlertsConfig
from alerts.errors import UnsafeTargetError
from alerts.guard import GuardedConnector
from alerts.outbox import SUBSCRIPTIONS
from alerts.outbox_reads import get_delivery, list_deliveries
from alerts.sending import run_deliveries, send_test
from alerts.signing import new_secret
from alerts.sqltypes import utcnow
from alerts.subscriptions import create_subscription
from tests.alerts.helpers import notice, publish_many
from tests.alerts.receiver import Receiver, Reply

GUARDED = AlertsConfig(
    timeout=timedelta(seconds=3),
    lease=timedelta(seconds=30),
    allow_private_setting="APP_ALLOW_PRIVATE",
    allow_cidrs_setting="APP_ALLOW_CIDRS",
)


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
def test_literal_loopback_targets_are_refused_at_creation(sqlite_engine: Engine, host: str) -> None:
    with pytest.raises(UnsafeTargetError) as caught, sqlite_engine.begin() as conn:
        create_subscription(conn, GUARDED, utcnow(), url=f"http://{host}:8080/hook")
    assert caught.value.field == "url"
    assert "loopback" in str(caught.value)
    assert "set APP_ALLOW_PRIVATE=true or add the address range to APP_ALLOW_CIDRS" in str(caught.value)


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "http:///nohost"])
def test_only_http_and_https(sqlite_engine: Engine, url: str) -> None:
    with pytest.raises(UnsafeTargetError), sqlite_engine.begin() as conn:
        create_subscription(conn, GUARDED, utcnow(), url=url)


def _plant(engine: Engine, sub_id: str, url: str) -> None:
    """A subscription stored as if the guard had been off when it was made."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(SUBSCRIPTIONS).values(
                id=sub_id,
                url=url,
                format="standard",
                events=["*"],
                tags=[],
                subjects=[],
                secret=new_secret(),
                origin="api",
                active=True,
                created_at=now,
                updated_at=now,
            )
        )


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]"])
def test_delivery_refuses_loopback_even_through_a_name(sqlite_engine: Engine, receiver: Receiver, host: str) -> None:
    _plant(sqlite_engine, "sub_planted", receiver.url(host=host))  # as if created before the guard refused it
    now = utcnow()
    publish_many(sqlite_engine, [notice("a", now)], now)
    stats = asyncio.run(run_deliveries(sqlite_engine, GUARDED, now, "w"))
    assert stats.retrying == 1
    assert receiver.received == []
    with sqlite_engine.connect() as conn:
        (delivery,) = list_deliveries(conn)
        error = get_delivery(conn, delivery.id).attempts[0].error
    assert error is not None and "refused by the SSRF guard" in error and "loopback" in error


def test_send_test_is_guarded_too(sqlite_engine: Engine, receiver: Receiver) -> None:
    _plant(sqlite_engine, "sub_planted", receiver.url())
    ping = asyncio.run(send_test(sqlite_engine, GUARDED, "sub_planted"))
    assert not ping.result.ok and "loopback" in (ping.result.error or "")
    assert receiver.received == []


def test_a_redirect_to_loopback_is_not_followed(sqlite_engine: Engine, receiver: Receiver) -> None:
    # The first hop is allowed by a one-address allowlist; the redirect points at [::1].
    only_first = AlertsConfig(allow_cidrs=("127.0.0.1/32",), lease=timedelta(seconds=30))
    receiver.reply("/hook", Reply(307, headers={"Location": f"http://[::1]:{receiver.port}/inner"}))
    with sqlite_engine.begin() as conn:
        create_subscription(conn, only_first, utcnow(), url=receiver.url())
    now = utcnow()
    publish_many(sqlite_engine, [notice("a", now)], now)
    assert asyncio.run(run_deliveries(sqlite_engine, only_first, now, "w")).retrying == 1
    assert [r.path for r in receiver.received] == ["/hook"]


def test_the_guard_checks_redirect_hops_when_a_client_follows_them(receiver: Receiver) -> None:
    receiver.reply("/hook", Reply(302, headers={"Location": f"http://[::1]:{receiver.port}/inner"}))

    async def follow() -> None:
        connector = GuardedConnector(AlertsConfig(allow_cidrs=("127.0.0.1/32",)).policy)
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.post(receiver.url(), data=b"{}", allow_redirects=True),
        ):
            pass

    with pytest.raises(UnsafeTargetError, match="loopback"):
        asyncio.run(follow())
    assert [r.path for r in receiver.received] == ["/hook"]
