"""HTTP for feeds (aiohttp lives here and in no other feeds module).

`Fetcher.fetch` is one conditional GET that never raises: redirects are followed by hand (at most
`MAX_REDIRECTS`, each hop checked by the SSRF guard, a chain of permanent ones reported), the body is
read in chunks and abandoned as soon as it passes `max_bytes`, and one deadline covers the whole fetch
(connection, every hop, the body). Concurrency is bounded per host, then overall; a feed waiting for
a slot is not on the clock yet, so a tarpit delays only the feeds of its own host.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urljoin

import aiohttp

from alerts.errors import UnsafeTargetError
from alerts.guard import AddressPolicy, GuardedConnector, check_url
from alerts.message import clean

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT = frozenset({301, 308})
USER_AGENT = "timeline-alerts/0.1 (feed watcher; +https://github.com/timeline-alerts)"
_CHUNK = 64 * 1024


@dataclass(slots=True)
class FetchResult:
    """One fetch, summarised. `error` is set when there is no usable response."""

    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    error: str | None = None
    permanent_url: str | None = None
    redirects: int = 0
    elapsed: float = 0.0


class _TooLarge(Exception):
    pass


class Fetcher:
    """A pooled HTTP client for feeds; use as `async with Fetcher(policy) as fetcher:`."""

    def __init__(self, policy: AddressPolicy, *, concurrency: int = 20, per_host: int = 2) -> None:
        self._policy = policy
        self._overall = asyncio.Semaphore(concurrency)
        self._per_host_limit = per_host
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(self._per_host_limit))
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        connector = GuardedConnector(self._policy, limit=self._concurrency, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            # No timers of aiohttp's: each fetch runs under one asyncio deadline (see `fetch`).
            timeout=aiohttp.ClientTimeout(total=None),
            headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        timeout: float = 20.0,
        max_bytes: int = 10_000_000,
    ) -> FetchResult:
        """GET `url` conditionally; a result, never an exception (except cancellation)."""
        try:
            parts = check_url(url, self._policy)
        except UnsafeTargetError as exc:
            return FetchResult(url, error=f"refused by the address guard: {exc}")
        except ValueError as exc:
            return FetchResult(url, error=_describe(exc))
        # A per-host limit at or above the overall one never binds: its semaphore is skipped.
        if self._per_host_limit >= self._concurrency:
            async with self._overall:
                return await self._timed(url, etag, last_modified, timeout, max_bytes)
        async with self._hosts[parts.hostname or ""], self._overall:
            return await self._timed(url, etag, last_modified, timeout, max_bytes)

    async def _timed(
        self, url: str, etag: str | None, last_modified: str | None, timeout: float, max_bytes: int
    ) -> FetchResult:
        """The fetch itself, once it has its slots: on the clock from here."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                result = await self._follow(url, etag, last_modified, max_bytes)
        except TimeoutError:
            result = FetchResult(url, error=f"timed out after {timeout:g}s")
        except UnsafeTargetError as exc:
            result = FetchResult(url, error=f"refused by the address guard: {exc}")
        except _TooLarge as exc:
            result = FetchResult(url, error=str(exc))
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            result = FetchResult(url, error=_describe(exc))
        result.elapsed = time.perf_counter() - started
        return result

    async def _follow(self, url: str, etag: str | None, last_modified: str | None, max_bytes: int) -> FetchResult:
        assert self._session is not None, "use Fetcher as an async context manager"
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current, permanent = url, True
        for hop in range(MAX_REDIRECTS + 1):
            if hop:  # `fetch` checked the first URL
                check_url(current, self._policy)
            async with self._session.get(
                current, headers=headers, allow_redirects=False, max_line_size=16384
            ) as response:
                status = response.status
                plain_headers = _headers(response.headers.items())
                location = response.headers.get("Location")
                if status in REDIRECTS and location:
                    permanent = permanent and status in PERMANENT
                    current = urljoin(current, location)
                    continue
                if status in REDIRECTS:
                    return FetchResult(url, status, plain_headers, error=f"HTTP {status} without a Location header")
                body = await _read(response, max_bytes) if 200 <= status < 300 else None
                moved = current if hop and permanent and (status == 304 or 200 <= status < 300) else None
                return FetchResult(url, status, plain_headers, body, permanent_url=moved, redirects=hop)
        return FetchResult(url, error=f"more than {MAX_REDIRECTS} redirects (last: {current})")


_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, application/json;q=0.8, */*;q=0.5"
)


async def _read(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > max_bytes:
        raise _TooLarge(f"body of {declared} bytes is over the cap of {max_bytes} bytes (max_bytes)")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise _TooLarge(f"body over the cap of {max_bytes} bytes (max_bytes); download abandoned")
        chunks.append(chunk)
    return b"".join(chunks)


_VALIDATORS = frozenset({"etag", "last-modified"})


def _headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Response headers by lower-case name, every value cleaned of controls and of the lone
    surrogates aiohttp makes of bytes that are not UTF-8 (they cannot be stored). A validator
    (ETag, Last-Modified) that needed cleaning is dropped: sent back changed, it would never match."""
    found: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        cleaned = clean(value)
        if cleaned != value and key in _VALIDATORS:
            continue
        found[key] = cleaned
    return found


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return clean(f"{exc.__class__.__name__}: {text}")[:500]
