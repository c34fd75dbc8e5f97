"""A real webhook receiver on 127.0.0.1 for tests: an aiohttp server in its own thread that records
every request and answers what the test scripted, per path."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    delay: float = 0.0  # seconds before answering: a slow receiver


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str
    at: float
    heap_frozen: bool | None = None  # whether the heap was set aside from the GC, if watched


class Receiver:
    """Start with `with Receiver() as r:`; `r.url("/a")`; script answers with `r.reply("/a", ...)`."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._replies: dict[str, list[Reply]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._release: asyncio.Event | None = None
        self.port = 0
        # gc.get_freeze_count() walks the whole frozen heap (milliseconds): only when a test asks.
        self.watch_heap = False
        self.on_request: Callable[[Received], None] | None = None  # runs in the receiver's thread

    def __enter__(self) -> Receiver:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._release = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        assert self._release is not None and self._runner is not None
        self._release.set()
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        frozen = gc.get_freeze_count() > 0 if self.watch_heap else None
        received = Received(request.path, dict(request.headers), body, time.monotonic(), frozen)
        self.received.append(received)
        if self.on_request is not None:
            self.on_request(received)
        queue = self._replies.get(request.path) or [Reply()]
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if reply.hang:
            assert self._release is not None
            await self._release.wait()
        await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, text=reply.body, headers=reply.headers)

    def release(self) -> None:
        """Answer the requests hung so far (and any later ones) at once."""
        assert self._release is not None
        self._loop.call_soon_threadsafe(self._release.set)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def reply(self, path: str, *replies: Reply) -> None:
        """Answer `path` with `replies` in turn; the last one keeps being given."""
        self._replies[path] = list(replies)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]
