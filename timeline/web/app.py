"""The FastAPI application, built by `create_app(settings)`: nothing is created at import time."""

from __future__ import annotations

import logging
import re
import uuid
from time import perf_counter
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alerts.sending import send_test
from timeline import __version__
from timeline.logs import request_id
from timeline.metrics import Metrics
from timeline.scheduler import Scheduler
from timeline.service import Service
from timeline.settings import Settings
from timeline.web import (
    api_alerts,
    api_feeds,
    api_milestones,
    api_proposals,
    api_silences,
    docs,
    exports,
    ops,
    page,
    webhooks,
)
from timeline.web.edges import RequestEdges
from timeline.web.errors import ApiError, describe, error_response, install_error_handlers

log = logging.getLogger("timeline.web")
_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

DESCRIPTION = """Dated milestones, the notices they raise, and the feeds and webhooks around them.

Reads are open unless `TIMELINE_API_READ_TOKEN` is set; writes need
`Authorization: Bearer <TIMELINE_API_TOKEN>`, checked before the body is read. Bodies are at most
1 MiB (413) and JSON nested at most 32 deep. Every error is `{"error": {"code", "message", "field"}}`.
Milestones defined in `config/milestones.yaml` are read-only here (409 names the file to edit).
"""

TAGS = [
    {"name": "milestones", "description": "Milestones, their history and the timeline"},
    {"name": "notices", "description": "What was (or will be) sent"},
    {"name": "feeds", "description": "Watched feeds and their health"},
    {"name": "proposals", "description": "New dates read in matched news, to accept or reject"},
    {"name": "subscriptions", "description": "Webhook targets"},
    {"name": "deliveries", "description": "The delivery outbox"},
    {"name": "exports", "description": "iCalendar and Atom"},
    {"name": "page", "description": "The timeline page"},
    {"name": "operations", "description": "Health, readiness and metrics"},
]


class RequestContext:
    """Gives each request an id (the caller's `X-Request-ID` when sane, else a new one), puts it in
    `timeline.logs.request_id` for every log line of the request, returns it as `X-Request-ID`, logs
    one line per request, and refuses NUL characters in the URL (no database stores them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _INCOMING_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = perf_counter()
        status = 500

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            refusal = _nul_refusal(scope)
            if refusal is not None:
                await error_response(refusal)(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The last resort, here rather than in Starlette's outermost middleware, so that the 500
            # carries the request id the log line has.
            log.error("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
            if started_response:
                raise
            await error_response(describe(exc))(scope, receive, send_with_id)
        finally:
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={"status": status, "duration_ms": round((perf_counter() - started) * 1000, 1)},
            )
            request_id.reset(token)


def _nul_refusal(scope: Scope) -> ApiError | None:
    """NUL characters cannot be stored nor named: a path holding one names nothing (404), a query
    parameter holding one is invalid (422 naming it)."""
    if "\x00" in scope["path"]:
        return ApiError(404, "no such resource: NUL characters are not allowed in paths")
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return ApiError(422, "NUL characters are not allowed", field=name.replace("\x00", "") or None)
    return None


def create_app(
    settings: Settings,
    *,
    service: Service | None = None,
    scheduler: Scheduler | None = None,
    metrics: Metrics | None = None,
    send_ping: api_alerts.Pinger | None = None,
) -> FastAPI:
    """The app serving `service` (built from `settings` when not given). `scheduler`, when given, is
    checked by /readyz; `metrics` is the registry /metrics exposes (a fresh one when not given);
    `send_ping` sends subscription test pings (`alerts.sending.send_test` unless replaced)."""
    service = service or Service(settings)
    metrics = metrics or service.metrics
    metrics.watch(service.engine)
    app = FastAPI(
        title="timeline-alerts",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        # Served by timeline.web.docs: behind the read token, with bundled assets (no CDN).
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    app.state.scheduler = scheduler
    app.state.metrics = metrics
    app.state.send_ping = send_ping or send_test
    app.state.templates = page.templates()
    install_error_handlers(app)
    routers = (api_milestones, api_feeds, api_proposals, api_alerts, api_silences, exports, page, ops, docs)
    for module in routers:
        app.include_router(module.router)
    webhooks.install(app)
    app.add_middleware(RequestEdges, settings=settings)
    app.add_middleware(RequestContext)
    return app
