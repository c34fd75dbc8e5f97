"""Polling due feeds: claim them, fetch them concurrently, parse off the event loop, write results.

One asyncio loop per `poll_due` call. Three kinds of work, kept apart so none holds up the others:
- fetches run on the loop, bounded per host and overall (`timeline.feeds.fetch`), each under one
  deadline;
- parsing (feedparser, CPU-bound) runs in `PARSE_THREADS` worker threads;
- the database is used from one thread: claims, and a writer that stores finished polls in batches
  (one transaction per batch, one savepoint per feed, so a feed whose write fails is recorded as
  failed without losing the others).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from alerts.gcscope import new_objects_only
from alerts.notices import publish
from timeline.db import write_transaction
from timeline.feeds.decide import Decision, Outcome, decide, needs_parse
from timeline.feeds.fetch import Fetcher, FetchResult
from timeline.feeds.health import failing_notice, recovered_notice
from timeline.feeds.ingest import IngestCounts, MilestoneIndex, ingest
from timeline.feeds.parse import Document, parse_document
from timeline.feeds.store import FeedRow, LostClaim, claim_due, release_claims, save_state, save_states
from timeline.settings import Settings

log = logging.getLogger(__name__)
PARSE_THREADS = 2
# The database thread works in few, large batches. Each batch costs more than its rows (a
# transaction, statements to prepare), and each switch of the GIL between that thread and the event
# loop costs the loop's fetches their warm caches. Measured on 1,000 feeds answering 304 (best of 8):
# claims of 10x the concurrency and writes of up to 1,000 results took 0.39 s of CPU, claims of 2x
# and writes of 500 gathered for 50 ms 0.43 s; on 10,000 feeds 4.1 s against 4.8 s.
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


@dataclass(frozen=True)
class FeedPoll:
    """The result of polling one feed. `status`: ok, not_modified, error, or lost (another worker
    took the feed over after our lease ran out; nothing of ours was written)."""

    feed_id: str
    url: str
    status: str
    http_status: int | None = None
    error: str | None = None
    new: int = 0
    updated: int = 0
    matched: int = 0
    notices: tuple[str, ...] = ()
    fetch_seconds: float = 0.0
    parse_seconds: float = 0.0
    next_poll_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed_id": self.feed_id,
            "url": self.url,
            "status": self.status,
            "http_status": self.http_status,
            "error": self.error,
            "new": self.new,
            "updated": self.updated,
            "matched": self.matched,
            "notices": list(self.notices),
            "fetch_seconds": round(self.fetch_seconds, 3),
            "parse_seconds": round(self.parse_seconds, 3),
            "next_poll_at": self.next_poll_at.isoformat() if self.next_poll_at else None,
        }


@dataclass
class PollReport:
    feeds: list[FeedPoll] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def notices(self) -> list[str]:
        return [key for poll in self.feeds for key in poll.notices]

    @property
    def errors(self) -> list[FeedPoll]:
        return [poll for poll in self.feeds if poll.status == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 3), "feeds": [p.as_dict() for p in self.feeds]}


Progress = Callable[[FeedPoll], None]


@dataclass
class _Done:
    """A finished fetch (and parse) waiting to be written."""

    feed: FeedRow
    fetch: FetchResult
    body_hash: str | None
    document: Document | None
    parse_seconds: float


def poll_due(
    engine: Engine,
    settings: Settings,
    now: datetime,
    *,
    feed_ids: Sequence[str] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> PollReport:
    """Poll the feeds due at `now` (or `feed_ids`; due or not with `force`) and store the results.

    Runs its own asyncio loop: call it from a thread that has none (scheduler job, CLI). Once `stop`
    is set (the worker is shutting down) nothing more is claimed; see `STOP_GRACE`.
    """
    report = PollReport()

    async def main() -> None:
        # The report travels outside the task's result: asyncio.run on the main thread of CPython
        # 3.11 formats a repr of the finished main task (result included) when it restores the
        # SIGINT handler, which for 10,000 feeds costs more than the polls.
        done = await poll_due_async(engine, settings, now, feed_ids=feed_ids, force=force, progress=progress, stop=stop)
        report.feeds, report.seconds = done.feeds, done.seconds

    with new_objects_only():
        asyncio.run(main())
    return report


async def poll_due_async(
    engine: Engine,
    settings: Settings,
    now: datetime,
    *,
    feed_ids: Sequence[str] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> PollReport:
    started = time.perf_counter()
    report = PollReport()
    with (
        ThreadPoolExecutor(1, thread_name_prefix="feeds-db") as db,
        ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="feeds-parse") as parser,
    ):
        run = _Run(engine, settings, now, db, parser, progress, report, stop)
        await run.main(feed_ids, force)
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
        self.random = random.Random()
        self.milestones = MilestoneIndex()
        self.queue: asyncio.Queue[_Done | None] = asyncio.Queue()

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
        self.queue.put_nowait(_Done(feed, fetched, body_hash, document, parse_seconds))

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
            batch: list[_Done] = []
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
                results = await loop.run_in_executor(self.db, self._write, batch)
            except Exception as exc:
                log.exception("writing %d feed polls failed", len(batch))
                results = [_failed(done, f"not saved: {exc.__class__.__name__}: {exc}") for done in batch]
            for result in results:
                self._report(result)

    def _write(self, batch: list[_Done]) -> list[FeedPoll]:
        """Store a batch in one transaction. Polls that only move the state (304, unchanged body,
        most errors) are written together by `save_states`; the others get a savepoint each."""
        decided = [(done, self._decide(done)) for done in batch]
        results: dict[int, FeedPoll] = {}
        with write_transaction(self.engine) as conn:
            simple = [(i, d, dec) for i, (d, dec) in enumerate(decided) if not _needs_more(d, dec)]
            lost = save_states(conn, [(d.feed, dec.state, d.feed.backlog_done) for _, d, dec in simple], self.now)
            for i, done, decision in simple:
                results[i] = (
                    _failed(done, "lost the claim to another worker", status="lost")
                    if done.feed.id in lost
                    else self._result(done, decision)
                )
            for i, (done, decision) in enumerate(decided):
                if i in results:
                    continue
                try:
                    with conn.begin_nested():
                        results[i] = self._apply(conn, done, decision)
                except LostClaim:
                    results[i] = _failed(done, "lost the claim to another worker", status="lost")
                except Exception as exc:
                    log.exception("storing the poll of feed %s failed", done.feed.id)
                    failure = f"storing the result failed: {exc.__class__.__name__}: {exc}"[:500]
                    results[i] = self._record_failure(conn, done, failure)
        return [results[i] for i in range(len(batch))]

    def _decide(self, done: _Done, error: str | None = None) -> Decision:
        fetched, document = done.fetch, done.document
        outcome = Outcome(
            status=fetched.status,
            headers=fetched.headers,
            error=error or fetched.error or (document.error if document else None),
            body_hash=done.body_hash,
            parsed=_parsed(done) and error is None,
            permanent_url=fetched.permanent_url,
        )
        return decide(
            done.feed.state, outcome, self.now, jitter=self.random.random(), alert_after=self.settings.feed_alert_after
        )

    def _apply(self, conn: Connection, done: _Done, decision: Decision) -> FeedPoll:
        feed, document, state = done.feed, done.document, decision.state
        parsed = decision.state.body_hash == done.body_hash and _parsed(done) and state.status == "ok"
        save_state(conn, feed, state, self.now, backlog_done=feed.backlog_done or parsed)
        notices: list[str] = []
        counts = None
        if parsed and document is not None:
            counts = ingest(conn, feed, document.entries, self.now, self.milestones)
            notices.extend(counts.notices)
        health = []
        if decision.failing and state.failing_since is not None:
            health.append(
                failing_notice(feed, state.failing_since, state.consecutive_failures, state.last_error, self.now)
            )
        if decision.recovered_from is not None:
            health.append(recovered_notice(feed, decision.recovered_from, self.now))
        notices.extend(publish(conn, health, self.now))
        return self._result(done, decision, counts, tuple(notices))

    def _result(
        self, done: _Done, decision: Decision, counts: IngestCounts | None = None, notices: tuple[str, ...] = ()
    ) -> FeedPoll:
        state = decision.state
        return FeedPoll(
            feed_id=done.feed.id,
            url=done.feed.fetch_url,
            status=state.status,
            http_status=done.fetch.status,
            error=state.last_error,
            new=counts.new if counts else 0,
            updated=counts.updated if counts else 0,
            matched=counts.matched if counts else 0,
            notices=notices,
            fetch_seconds=done.fetch.elapsed,
            parse_seconds=done.parse_seconds,
            next_poll_at=state.next_poll_at,
        )

    def _record_failure(self, conn: Connection, done: _Done, error: str) -> FeedPoll:
        """Store the feed as failed (with backoff) when storing its result failed."""
        try:
            with conn.begin_nested():
                return self._apply(conn, done, self._decide(done, error))
        except Exception:
            log.exception("recording the failure of feed %s failed", done.feed.id)
            return _failed(done, error)


def _parsed(done: _Done) -> bool:
    return done.document is not None and done.document.error is None


def _needs_more(done: _Done, decision: Decision) -> bool:
    """Whether storing this poll takes more than a state update: entries, or a health notice."""
    return _parsed(done) or decision.failing or decision.recovered_from is not None


def _timed_parse(body: bytes, headers: dict[str, str], url: str) -> tuple[Document, float]:
    began = time.perf_counter()
    document = parse_document(body, headers, url)
    return document, time.perf_counter() - began


def _failed(done: _Done, error: str, status: str = "error") -> FeedPoll:
    return FeedPoll(
        feed_id=done.feed.id,
        url=done.feed.fetch_url,
        status=status,
        http_status=done.fetch.status,
        error=error,
        fetch_seconds=done.fetch.elapsed,
        parse_seconds=done.parse_seconds,
    )
