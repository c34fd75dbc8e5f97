"""The webhook channel: signed Standard Webhooks POSTs, and Slack and Discord incoming webhooks
(bodies from `alerts.formats`). aiohttp lives here and in `alerts.guard`, nowhere else in `alerts`.

One `aiohttp.ClientSession` over the SSRF-guarded connector serves every subscription of a pass.
Redirects are not followed: a 3xx is a failed attempt. No cookie jar: what one receiver sets must not
ride along to the next request, whoever's.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import aiohttp
from yarl import URL

from alerts import formats, signing
from alerts.config import AlertsConfig
from alerts.errors import UnsafeTargetError
from alerts.guard import GuardedConnector, check_url
from alerts.policy import AttemptResult
from alerts.statements import Claimed

WEBHOOK_FORMATS = formats.FORMATS
USER_AGENT = "timeline-alerts-webhooks/1"
HEADERS = {"content-type": "application/json", "user-agent": USER_AGENT}
"""The headers every webhook request carries (the session's defaults)."""
EXCERPT_BYTES = 1024


class Request(NamedTuple):
    """One webhook request, ready to go."""

    url: str
    body: str
    headers: dict[str, str]
    timeout: float


def build_request(delivery: Claimed, seconds: int, config: AlertsConfig) -> Request:
    """The body and headers of a delivery sent at `seconds` (Unix time): for `standard`, the signed
    Standard Webhooks headers. (Content-Type and User-Agent are the session's, `HEADERS`.)"""
    body = formats.body(delivery.format, delivery.payload_json)
    signed = delivery.format == "standard" and delivery.keys
    headers = signing.headers(delivery.webhook_id, seconds, body, delivery.keys) if signed else {}
    timeout = delivery.timeout_seconds or config.timeout.total_seconds()
    return Request(delivery.url, body, headers, timeout)


class WebhookChannel:
    """The `Channel` (see `alerts.channels`) for formats `standard`, `slack` and `discord`."""

    def __init__(self, config: AlertsConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}  # targets the SSRF guard has passed, parsed once
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def open(self) -> None:
        connector = GuardedConnector(self.config.policy, limit=self.config.max_in_flight, limit_per_host=0)
        jar = aiohttp.DummyCookieJar()
        self._session = aiohttp.ClientSession(
            connector=connector, headers=HEADERS, cookie_jar=jar, raise_for_status=False
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, delivery: Claimed, seconds: int) -> AttemptResult:
        return await self.post(build_request(delivery, seconds, self.config))

    async def post(self, request: Request) -> AttemptResult:
        """POST `request`. Never raises for the failures of one attempt: they come back as an
        `AttemptResult` with an error."""
        if self._session is None:
            raise RuntimeError("WebhookChannel used before open()")
        timeout = self._timeouts.get(request.timeout)
        if timeout is None:
            timeout = self._timeouts[request.timeout] = aiohttp.ClientTimeout(total=request.timeout)
        start = time.perf_counter()
        try:
            url = self._urls.get(request.url)
            if url is None:
                check_url(request.url, self.config.policy)
                url = self._urls[request.url] = URL(request.url)
            async with self._session.post(
                url,
                data=request.body.encode("utf-8"),
                headers=request.headers,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                excerpt = await response.content.read(EXCERPT_BYTES)
                return AttemptResult(
                    status_code=response.status,
                    latency_ms=(time.perf_counter() - start) * 1000,
                    retry_after=response.headers.get("Retry-After"),
                    excerpt=excerpt.decode("utf-8", "replace"),
                )
        except TimeoutError:
            error, timed_out = f"timed out after {request.timeout:g}s", True
        except UnsafeTargetError as exc:
            error, timed_out = f"refused by the SSRF guard: {exc}", False
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            error, timed_out = f"{type(exc).__name__}: {exc}".strip(), False
        return AttemptResult(None, (time.perf_counter() - start) * 1000, error=error, timed_out=timed_out)
