"""Polling due feeds: claim them, fetch them concurrently, parse off the event loop, write results.

One asyncio loop per `poll_due` call. Three kinds of work, kept apart so none holds up the others:
- fetches run on the loop, bounded per host and overall (`timeline.feeds.fetch`), each under one
  deadline;
- parsing (`timeline.feeds.parse`, CPU-bound) runs in `PARSE_THREADS` worker threads;
- the database is used from one thread: claims, and the writer (`timeline.feeds.writer`) that
  stores finished polls in batches, each feed inside its own error boundary.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import Engine

from alerts.gc_freeze import new_objects_only
from timeline.feeds.decide import needs_parse
from timeline.feeds.fetch import Fetcher
from timeline.feeds.parse import Document, parse_document
from timeline.feeds.report import FeedPoll, PollReport, Progress
from timeline.feeds.store import FeedRow, claim_due, release_claims
from timeline.feeds.text import clean
from timeline.feeds.writer import Done, Writer, failed_poll
from timeline.settings import Settings

__all__ = ["FeedPoll", "PollOptions", "PollReport", "Progress", "poll_due", "poll_due_async"]

log = logging.getLogger(__name__)
PARSE_THREADS = 2
# The database thread works in few, large batches. Each batch costs more than its rows (a
# transaction, statements to prepare), and each switch of the GIL between that thread and the event
# loop costs the loop's fetches their warm caches: see
# docs/design.md#feed-database-work-in-few-large-batches.
CLAIM_BATCH = 10
"""Feeds claimed at once, in multiples of the concurrency (claimed again when only the concurrency
is left in flight, so that fetches never run dry)."""
WRITE_BATCH = 1000
WRITE_WAIT = 1.0
"""Seconds a finished poll may wait for others to fill its write batch."""
STOP_GRACE = 5.0
"""Once asked to stop, fetches in flight get this long to finish (seconds); the feeds not polled by
then are handed back, due at once, for another worker."""
_STOP_CHECK = 0.2


class PollOptions(TypedDict, total=False):
    """Which feeds a poll takes and how it reports: `feed_ids` (None: every feed), `force` (due or
    not), `progress` (called with each feed's result), `stop` (set when the worker shuts down)."""

    feed_ids: Sequence[str] | None
    force: bool
    progress: Progress | None
    stop: threading.Event | None


def poll_due(engine: Engine, settings: Settings, now: datetime, **options: Unpack[PollOptions]) -> PollReport:
    """Poll the feeds due at `now` (or `feed_ids`; due or not with `force`) and store the results.

    Runs its own asyncio loop: call it from a thread that has none (scheduler job, CLI). Once `stop`
    is set (the worker is shutting down) nothing more is claimed; see `STOP_GRACE`.
    """
    report = PollReport()

    async def main() -> None:
        # The report travels outside the task's result: asyncio.run on the main thread of CPython
        # 3.11 formats a repr of the finished main task (result included) when it restores the
        # SIGINT handler, which for 10,000 feeds costs more than the polls.
        done = await poll_due_async(engine, settings, now, **options)
        report.feeds, report.seconds = done.feeds, done.seconds

    with new_objects_only():
        asyncio.run(main())
    return report


async def poll_due_async(
    engine: Engine, settings: Settings, now: datetime, **options: Unpack[PollOptions]
) -> PollReport:
    started = time.perf_counter()
    report = PollReport()
    with (
        ThreadPoolExecutor(1, thread_name_prefix="feeds-db") as db,
        ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="feeds-parse") as parser,
    ):
        run = _Run(engine, settings, now, db, parser, options.get("progress"), report, options.get("stop"))
        await run.main(options.get("feed_ids"), options.get("force", False))
    report.feeds.sort(key=lambda p: p.feed_id)
    report.seconds = time.perf_counter() - started
    return report


class _Run:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        now: datetime,
        db: ThreadPoolExecutor,
        parser: ThreadPoolExecutor,
        progress: Progress | None,
        report: PollReport,
        stop: threading.Event | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.now = now
        self.db = db
        self.parser = parser
        self.progress = progress
        self.report = report
        self.stop = stop
        self.writer = Writer(engine, settings, now)
        self.queue: asyncio.Queue[Done | None] = asyncio.Queue()

    async def main(self, feed_ids: Sequence[str] | None, force: bool) -> None:
        loop = asyncio.get_running_loop()
        policy = self.settings.feed_policy()
        concurrency = self.settings.feed_concurrency
        writer = asyncio.create_task(self._writer())
        in_flight: dict[asyncio.Task[None], FeedRow] = {}
        room = asyncio.Event()
        watcher = asyncio.create_task(self._watch_stop(room)) if self.stop is not None else None

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.pop(task, None)
            if not task.cancelled() and task.exception() is not None:
                log.error("polling a feed failed", exc_info=task.exception())
            if len(in_flight) <= concurrency:
                room.set()

        exhausted = started = False
        try:
            async with Fetcher(policy, concurrency=concurrency, per_host=self.settings.feed_per_host) as fetcher:
                while not self.stopping():
                    if not exhausted and len(in_flight) <= concurrency:
                        # Forced polls claim every feed asked for at once: they stay claimable.
                        # The first claim is small, so that fetching starts at once.
                        ahead = CLAIM_BATCH if started else 2
                        limit = 1_000_000 if force else ahead * concurrency + 1 - len(in_flight)
                        started = True
                        batch = await loop.run_in_executor(
                            self.db,
                            functools.partial(
                                claim_due, self.engine, self.now, limit=limit, feed_ids=feed_ids, force=force
                            ),
                        )
                        exhausted = force or len(batch) < limit
                        for feed in batch:
                            task = asyncio.create_task(self._poll(fetcher, feed))
                            in_flight[task] = feed
                            task.add_done_callback(finished)
                    if not in_flight:
                        break
                    # Woken when a slot frees: one event, not a wait over every task in flight.
                    room.clear()
                    await room.wait()
                if in_flight:  # stopping
                    await self._hand_back(in_flight)
        finally:
            if watcher is not None:
                watcher.cancel()
            for task in list(in_flight):
                task.cancel()
            await self.queue.put(None)
            await writer

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    async def _watch_stop(self, room: asyncio.Event) -> None:
        """Wake the claim loop once `stop` (a thread's event) is set."""
        while not self.stopping():
            await asyncio.sleep(_STOP_CHECK)
        room.set()

    async def _hand_back(self, in_flight: dict[asyncio.Task[None], FeedRow]) -> None:
        """Stopping: give fetches in flight `STOP_GRACE` to finish (the writer stores them), cancel
        the rest and release their claims, due at once, for another worker to poll."""
        await asyncio.wait(list(in_flight), timeout=STOP_GRACE)
        left = dict(in_flight)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        loop = asyncio.get_running_loop()
        released = await loop.run_in_executor(self.db, release_claims, self.engine, list(left.values()), self.now)
        log.info("stopping: %d feed polls handed back", released)

    async def _poll(self, fetcher: Fetcher, feed: FeedRow) -> None:
        """Fetch (and parse) one feed and hand the result to the writer. The slot is free once the
        result is queued: the writer reports it when it is stored."""
        loop = asyncio.get_running_loop()
        fetched = await fetcher.fetch(
            feed.fetch_url,
            etag=feed.state.etag,
            last_modified=feed.state.last_modified,
            timeout=feed.timeout,
            max_bytes=feed.max_bytes,
        )
        body_hash = hashlib.sha256(fetched.body).hexdigest() if fetched.body is not None else None
        document = None
        parse_seconds = 0.0
        if fetched.error is None and needs_parse(feed.state, fetched.status, body_hash):
            assert fetched.body is not None
            url = fetched.permanent_url or feed.fetch_url
            document, parse_seconds = await loop.run_in_executor(
                self.parser, _timed_parse, fetched.body, fetched.headers, url
            )
        self.queue.put_nowait(Done(feed, fetched, body_hash, document, parse_seconds))

    def _report(self, result: FeedPoll) -> None:
        self.report.feeds.append(result)
        if result.status == "error":
            log.warning(
                "feed %s failed: %s", result.feed_id, result.error, extra={"feed": result.feed_id, "url": result.url}
            )
        if self.progress is not None:
            self.progress(result)

    async def _writer(self) -> None:
        """Store finished polls in batches: up to WRITE_BATCH, gathered for at most WRITE_WAIT (a
        transaction costs more than the rows in it, so a few large ones beat many small ones)."""
        loop = asyncio.get_running_loop()
        stop = False
        while not stop:
            item = await self.queue.get()
            deadline = loop.time() + WRITE_WAIT
            batch: list[Done] = []
            while item is not None:
                batch.append(item)
                if len(batch) >= WRITE_BATCH:
                    break
                if not self.queue.empty():
                    item = self.queue.get_nowait()
                    continue
                try:
                    async with asyncio.timeout_at(deadline):
                        item = await self.queue.get()
                except TimeoutError:
                    break
            stop = item is None
            if not batch:
                continue
            try:
                results = await loop.run_in_executor(self.db, self.writer.write, batch)
            except Exception as exc:
                log.exception("writing %d feed polls failed", len(batch))
                results = [
                    failed_poll(done, clean(f"not saved: {exc.__class__.__name__}: {exc}")[:500]) for done in batch
                ]
            for result in results:
                self._report(result)


def _timed_parse(body: bytes, headers: dict[str, str], url: str) -> tuple[Document, float]:
    began = time.perf_counter()
    document = parse_document(body, headers, url)
    return document, time.perf_counter() - began
