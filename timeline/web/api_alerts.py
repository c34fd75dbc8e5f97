"""Subscriptions and deliveries: thin wrappers over `alerts.subscriptions`, `alerts.outbox_reads` and
`alerts.sending.send_test`. Secrets are shown only by creation and rotation."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Engine

from alerts import outbox_reads, subscriptions
from alerts.config import AlertsConfig
from alerts.sending import PingResult
from timeline.clock import utcnow
from timeline.dates import utc_text
from timeline.db import advisory_lock, write_transaction
from timeline.service import Service
from timeline.web.api_milestones import date_bound
from timeline.web.auth import Reader, Writer, bearer_token, is_writer, service_of, settings_of
from timeline.web.links import link
from timeline.web.paging import Cursor, PageSize, before_id, cursor_page
from timeline.web.schemas import DATE_TEXT, error_responses
from timeline.web.schemas_alerts import (
    DeliveryDetailOut,
    DeliveryOut,
    DeliveryPage,
    DeliveryStatus,
    PingOut,
    RecoverOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
    SubscriptionWithSecret,
)

#: Sends a signed `test.ping` to a subscription now: `alerts.sending.send_test`, or a stand-in.
Pinger = Callable[[Engine, AlertsConfig, str], Awaitable[PingResult]]

router = APIRouter(prefix="/api")
ServiceDep = Annotated[Service, Depends(service_of)]
SubscriptionId = Annotated[str, Path(max_length=200, description="The subscription's id")]
DeliveryId = Annotated[int, Path(ge=1, le=2**62, description="The delivery's id")]
ROTATION_LOCK = 7_140_003
"""The PostgreSQL advisory lock that serialises secret rotations (beside timeline.db's 7_140_001 and 7_140_002)."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _view(view: Any) -> dict[str, Any]:
    """An alerts view dataclass as JSON-able data."""
    return {f.name: _plain(getattr(view, f.name)) for f in dataclasses.fields(view)}


def masked_url(url: str) -> str:
    """`url` with only its scheme, host and port showing: the path, query and any user or password
    masked (`https://hooks.slack.com/***`). A Slack or Discord webhook URL's path is its credential."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "***"
    if ":" in host:
        host = f"[{host}]"
    hidden = bool(parts.path.strip("/") or parts.query or parts.fragment or parts.username)
    return f"{parts.scheme}://{host}{port}/{'***' if hidden else ''}"


def _subscription(view: subscriptions.SubscriptionView, request: Request) -> dict[str, Any]:
    """A subscription as shown to this caller: the target URL in full only to holders of the write token."""
    shown = _view(view)
    if not is_writer(settings_of(request), bearer_token(request.headers.get("authorization"))):
        shown["url"] = masked_url(view.url)
        shown["to"] = ["***@" + address.rpartition("@")[2] for address in view.to]
    return shown


def _with_secret(created: subscriptions.WithSecret) -> dict[str, Any]:
    return _view(created.subscription) | {"secret": created.secret}


@router.post(
    "/subscriptions",
    tags=["subscriptions"],
    summary="Create a webhook subscription; its signing secret is shown in this answer only",
    status_code=201,
    response_model=SubscriptionWithSecret,
    responses=error_responses(400, 401, 403, 422),
    dependencies=[Writer],
)
def create_subscription(
    service: ServiceDep, body: SubscriptionIn, request: Request, response: Response
) -> dict[str, Any]:
    with write_transaction(service.engine) as conn:
        created = subscriptions.create_subscription(conn, service.alerts, utcnow(), **body.model_dump())
    response.headers["Location"] = link(
        service.settings, f"api/subscriptions/{quote(created.subscription.id, safe='')}"
    )
    return _with_secret(created)


@router.get(
    "/subscriptions",
    tags=["subscriptions"],
    summary="List subscriptions (without their secrets; target URLs masked without the write token)",
    response_model=list[SubscriptionOut],
    responses=error_responses(401, 422),
    dependencies=[Reader],
)
def list_subscriptions(
    service: ServiceDep,
    request: Request,
    active: Annotated[bool | None, Query(description="Only active (true) or inactive (false) ones")] = None,
) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        found = subscriptions.list_subscriptions(conn, active=active)
    return [_subscription(s, request) for s in found]


@router.get(
    "/subscriptions/{subscription_id}",
    tags=["subscriptions"],
    summary="One subscription (without its secret; its target URL masked without the write token)",
    response_model=SubscriptionOut,
    responses=error_responses(401, 404, 422),
    dependencies=[Reader],
)
def get_subscription(service: ServiceDep, subscription_id: SubscriptionId, request: Request) -> dict[str, Any]:
    with service.engine.connect() as conn:
        found = subscriptions.get_subscription(conn, subscription_id)
    return _subscription(found, request)


@router.patch(
    "/subscriptions/{subscription_id}",
    tags=["subscriptions"],
    summary="Change a subscription; config-declared ones may only be enabled or disabled",
    response_model=SubscriptionOut,
    responses=error_responses(400, 401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def patch_subscription(service: ServiceDep, subscription_id: SubscriptionId, body: SubscriptionPatch) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    with write_transaction(service.engine) as conn:
        return _view(subscriptions.update_subscription(conn, service.alerts, subscription_id, changes, utcnow()))


@router.delete(
    "/subscriptions/{subscription_id}",
    tags=["subscriptions"],
    summary="Delete a subscription (its pending deliveries are cancelled, its history kept)",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def delete_subscription(service: ServiceDep, subscription_id: SubscriptionId) -> Response:
    with write_transaction(service.engine) as conn:
        subscriptions.delete_subscription(conn, subscription_id, utcnow())
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/test",
    tags=["subscriptions"],
    summary="Send a signed test.ping now and return what the target answered",
    response_model=PingOut,
    responses=error_responses(401, 403, 404, 422),
    dependencies=[Writer],
)
async def test_subscription(request: Request, service: ServiceDep, subscription_id: SubscriptionId) -> dict[str, Any]:
    def exists() -> None:
        with service.engine.connect() as conn:
            subscriptions.get_subscription(conn, subscription_id)

    await asyncio.to_thread(exists)
    send_ping: Pinger = request.app.state.send_ping
    ping = await send_ping(service.engine, service.alerts, subscription_id)
    result = ping.result
    return {
        "ok": result.status_code is not None and 200 <= result.status_code < 300,
        "webhook_id": ping.webhook_id,
        "status_code": result.status_code,
        "latency_ms": round(result.latency_ms, 1),
        "error": result.error,
    }


@router.post(
    "/subscriptions/{subscription_id}/rotate-secret",
    tags=["subscriptions"],
    summary="Give a subscription a new secret (shown once); the old one keeps signing for 24 h",
    response_model=SubscriptionWithSecret,
    responses=error_responses(401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def rotate_secret(service: ServiceDep, subscription_id: SubscriptionId) -> dict[str, Any]:
    with write_transaction(service.engine) as conn:
        # One rotation at a time (on PostgreSQL; SQLite's write lock does it already): two rotations
        # reading the same secret would each hand out a new one, and only the later would sign.
        advisory_lock(conn, ROTATION_LOCK)
        return _with_secret(subscriptions.rotate_secret(conn, service.alerts, subscription_id, utcnow()))


@router.post(
    "/subscriptions/{subscription_id}/recover",
    tags=["subscriptions"],
    summary="Send again what failed since a time (same webhook-ids)",
    response_model=RecoverOut,
    responses=error_responses(401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def recover(
    service: ServiceDep,
    subscription_id: SubscriptionId,
    since: Annotated[str, Query(description=f"Deliveries created since then ({DATE_TEXT})")],
) -> dict[str, Any]:
    start = date_bound(since, "since", end=False) or utcnow()
    with write_transaction(service.engine) as conn:
        return {"queued": outbox_reads.recover(conn, subscription_id, start, utcnow())}


@router.get(
    "/deliveries",
    tags=["deliveries"],
    summary="Deliveries, newest first, with cursor pagination",
    response_model=DeliveryPage,
    responses=error_responses(400, 401, 422),
    dependencies=[Reader],
)
def list_deliveries(
    service: ServiceDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status")] = None,
    subscription: Annotated[str | None, Query(description="Only this subscription's")] = None,
    cursor: Cursor = None,
    limit: PageSize = 100,
) -> dict[str, Any]:
    below = before_id(cursor)
    with service.engine.connect() as conn:
        found = outbox_reads.list_deliveries(
            conn, status=status, subscription_id=subscription, limit=limit + 1, before_id=below
        )
    return cursor_page([_view(d) for d in found], limit)


def _detail(detail: outbox_reads.DeliveryDetail) -> dict[str, Any]:
    return _view(detail.delivery) | {"payload": detail.payload, "attempt_log": [_view(a) for a in detail.attempts]}


@router.get(
    "/deliveries/{delivery_id}",
    tags=["deliveries"],
    summary="One delivery, its payload and every attempt",
    response_model=DeliveryDetailOut,
    responses=error_responses(401, 404, 422),
    dependencies=[Reader],
)
def get_delivery(service: ServiceDep, delivery_id: DeliveryId) -> dict[str, Any]:
    with service.engine.connect() as conn:
        return _detail(outbox_reads.get_delivery(conn, delivery_id))


@router.post(
    "/deliveries/{delivery_id}/retry",
    tags=["deliveries"],
    summary="Send a delivery again now (same webhook-id, fresh retry schedule)",
    response_model=DeliveryOut,
    responses=error_responses(401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def retry_delivery(service: ServiceDep, delivery_id: DeliveryId) -> dict[str, Any]:
    with write_transaction(service.engine) as conn:
        return _view(outbox_reads.retry_delivery(conn, delivery_id, utcnow()))
