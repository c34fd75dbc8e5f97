"""Sending: the HTTP edge of the outbox (aiohttp lives here and nowhere else in `alerts`).

One `aiohttp.ClientSession` over the SSRF-guarded connector serves every subscription. Each
subscription has its own concurrency limit and timeout: a pass queues a subscription's claimed
deliveries and sends them with as many senders as its concurrency allows, and a worker holds only a
few rounds of that (`_Pass._cap`, about one claim batch more at most), so a receiver that hangs ties
up only its own deliveries. Leases of what a worker holds are renewed at half their
length while it lives: a queue behind a slow receiver is never taken over and sent twice.
Redirects are not followed: a 3xx is a failed attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import NamedTuple, TypeVar

import aiohttp
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import OperationalError
from yarl import URL

from alerts import formats, signing
from alerts.config import AlertsConfig
from alerts.errors import NotFoundError, UnsafeTargetError
from alerts.gcscope import new_objects_only
from alerts.guard import GuardedConnector, check_url
from alerts.outbox import (
    SUBSCRIPTIONS,
    Claimed,
    FanOut,
    Lease,
    cancel_orphans,
    claim,
    fan_out,
    record,
    release,
    renew,
    signing_keys,
)
from alerts.policy import AttemptResult
from alerts.sqltypes import utcnow

USER_AGENT = "timeline-alerts-webhooks/1"
HEADERS = {"content-type": "application/json", "user-agent": USER_AGENT}
"""The headers every webhook request carries (the session's defaults)."""
EXCERPT_BYTES = 1024
_IDLE_POLL = 0.5
# Expired leases are looked for until none is left, then again after this long (seconds).
_RECLAIM_EVERY = 10.0
_LEASE_MARGIN = timedelta(seconds=30)
# Notices turned into deliveries per transaction (at most `batch_size` when a claim fans out).
FAN_OUT_BATCH = 500
# Outcomes are recorded in batches of this many (at most half of `max_in_flight`, so that claims
# refill while the other half is sent), or fewer once the first has waited SETTLE_WAIT seconds:
# a transaction per batch, as recording each answer as it comes costs more than sending it.
SETTLE_BATCH = 100
SETTLE_WAIT = 0.02
# Once asked to stop, requests in flight get this long to finish (seconds); the rest are released.
STOP_GRACE = 5.0
_T = TypeVar("_T")


class Request(NamedTuple):
    """One webhook request, ready to go."""

    url: str
    body: str
    headers: dict[str, str]
    timeout: float


def build_request(claimed: Claimed, seconds: int, config: AlertsConfig) -> Request:
    """The body and headers of a claimed delivery sent at `seconds` (Unix time): for `standard`, the
    signed Standard Webhooks headers. (Content-Type and User-Agent are the session's, `HEADERS`.)"""
    body = formats.body(claimed.format, claimed.payload_json)
    signed = claimed.format == "standard" and claimed.keys
    headers = signing.headers(claimed.webhook_id, seconds, body, claimed.keys) if signed else {}
    timeout = claimed.timeout_seconds or config.timeout.total_seconds()
    return Request(claimed.url, body, headers, timeout)


class Sender:
    """The shared HTTP session and the per-subscription limits. Use as an async context manager."""

    def __init__(self, config: AlertsConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}  # targets the SSRF guard has passed, parsed once
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    async def __aenter__(self) -> Sender:
        connector = GuardedConnector(self.config.policy, limit=self.config.max_in_flight, limit_per_host=0)
        # No cookie jar: what one receiver sets must not ride along to the next request, whoever's.
        jar = aiohttp.DummyCookieJar()
        self._session = aiohttp.ClientSession(
            connector=connector, headers=HEADERS, cookie_jar=jar, raise_for_status=False
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def limit(self, subscription_id: str, concurrency: int | None) -> int:
        """How many requests to a subscription may be in flight at once."""
        return concurrency or self.config.concurrency

    async def post(self, request: Request) -> AttemptResult:
        """POST `request`. Never raises for the failures of one attempt: they come back as an
        `AttemptResult` with an error."""
        if self._session is None:
            raise RuntimeError("Sender used outside `async with`")
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


@dataclass
class DeliveryStats:
    """What one `run_deliveries` pass did."""

    notices: int = 0
    created: int = 0
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    disabled: list[str] = field(default_factory=list)


async def run_deliveries(
    engine: Engine,
    config: AlertsConfig,
    now: datetime,
    worker_id: str,
    *,
    sender: Sender | None = None,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> DeliveryStats:
    """Fan out new notices, then claim, send and record due deliveries until none is left.

    `now` is the instant of the first claim; later batches advance it by the (monotonic) time spent,
    so a long backlog is signed with current timestamps. Outcomes are recorded in batches; database
    calls never leave requests in flight waiting behind a lock (see `_Pass._db`). Once `stop` is set
    (the process is shutting down), nothing more is claimed; requests in flight get `STOP_GRACE`
    seconds to finish and are recorded, the others are released for another worker, and the pass
    returns. While it runs, the garbage collector leaves the heap that existed before it alone (see
    `alerts.gcscope`).
    """
    if sender is None:
        async with Sender(config) as own:
            return await run_deliveries(engine, config, now, worker_id, sender=own, rng=rng, stop=stop)
    with new_objects_only():
        return await _Pass(engine, config, now, worker_id, sender, rng or random.Random(), stop).run()


def deliver_once(
    engine: Engine,
    config: AlertsConfig,
    now: datetime,
    worker_id: str,
    *,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> DeliveryStats:
    """`run_deliveries` for synchronous callers (the scheduler's jobs): one pass, then return."""
    return asyncio.run(run_deliveries(engine, config, now, worker_id, rng=rng, stop=stop))


class _Pass:
    def __init__(
        self,
        engine: Engine,
        config: AlertsConfig,
        now: datetime,
        worker_id: str,
        sender: Sender,
        rng: random.Random,
        stop: threading.Event | None = None,
    ) -> None:
        self.config, self.worker_id, self.sender, self.rng = config, worker_id, sender, rng
        self.stop = stop
        self.start_now, self.start, self.start_unix = now, time.monotonic(), now.timestamp()
        self.stats = DeliveryStats()
        # What this worker holds (claimed, not yet recorded or released), and per subscription the
        # queue of those not sent yet and the count of its senders: one task per sender, not per
        # request (a task, its callback and a semaphore's wake-up per request cost ~10 % of the loop).
        self.holding: dict[int, Claimed] = {}
        self.queues: dict[str, deque[Claimed]] = {}
        self.senders: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        # Finished requests, and the event that wakes the loop for them.
        self.finished: list[tuple[Claimed, AttemptResult]] = []
        self.first_finished = 0.0  # when the first of them finished (monotonic)
        self.settle_batch = max(1, min(SETTLE_BATCH, config.max_in_flight // 2))
        self.wake = asyncio.Event()
        self.broken: asyncio.Task[None] | None = None  # a sender that raised
        self.held: Counter[str] = Counter()
        self.caps: dict[str, int] = {}
        self.next_reclaim = 0.0
        self.renew_every = config.claim_lease.total_seconds() / 2  # leases are renewed at half-life
        self.renew_at = self.start + self.renew_every  # monotonic
        self.unfanned = True  # whether notices may wait to be fanned out (the last fan-out was full)
        # `sqlite_immediate` asks timeline.db's engines for BEGIN IMMEDIATE (and "nowait": only if
        # the write lock is free); other engines ignore it.
        self.waiting = engine.execution_options(sqlite_immediate=True)
        self.inline = engine.execution_options(sqlite_immediate="nowait") if engine.dialect.name == "sqlite" else None

    def now(self) -> datetime:
        return self.start_now + timedelta(seconds=time.monotonic() - self.start)

    def seconds(self) -> int:
        """`now()` in whole Unix seconds, as requests are signed (cheaper than a datetime per request)."""
        return int(self.start_unix + (time.monotonic() - self.start))

    async def _db(self, work: Callable[[Connection], _T]) -> _T:
        """`work(conn)` in a write transaction. On SQLite it runs at once, on the loop, when the write
        lock is free: a batch takes a few milliseconds, and handing it to a thread costs more than
        that (the two threads trade the GIL back and forth: ~40 us per delivery, a fifth of the
        whole). When another connection holds the lock, and always on PostgreSQL (whose calls wait on
        the network), it runs in a thread, so requests in flight never wait behind a lock. `work`
        must change nothing but the database: a try that met a held lock is run again."""
        if self.inline is not None:
            try:
                with self.inline.begin() as conn:
                    done = work(conn)
            except OperationalError as exc:
                if getattr(exc.orig, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY:
                    raise
                # The lock was held: the transaction rolled back, having written nothing.
            else:
                await asyncio.sleep(0)  # let what is ready run (senders just started, answers) first
                return done
        return await asyncio.to_thread(self._in_thread, work)

    def _in_thread(self, work: Callable[[Connection], _T]) -> _T:
        with self.waiting.begin() as conn:
            return work(conn)

    async def _fan_out(self) -> None:
        """Fan out one batch of notices, leasing none: while everything in flight is slow, and for
        the notices of subscriptions just disabled. Otherwise claims fan out as they need (`_claim`)."""
        now = self.now()
        self._fanned(await self._db(lambda conn: fan_out(conn, now, FAN_OUT_BATCH)), FAN_OUT_BATCH)

    def _fanned(self, done: FanOut, limit: int) -> None:
        self.stats.notices += done.notices
        self.stats.created += done.deliveries
        self.unfanned = done.notices == limit

    async def _claim(self, limit: int, exclude: set[str], reclaim: bool) -> list[Claimed]:
        """Claim up to `limit` due deliveries; when too few are due and notices may wait, fan out as
        many notices as there is room left in the same transaction, leasing the new deliveries. So a
        burst of notices starts going out after its first batch, not its last, what was due before
        it goes first, and a new delivery is written once, leased (a notice fanned out beyond the
        room would leave its deliveries pending, for the next claim to update again)."""
        now = self.now()

        def work(conn: Connection) -> tuple[list[Claimed], FanOut | None, int]:
            if reclaim:  # housekeeping at the same pace as looking for expired leases
                cancel_orphans(conn, now)
            claimed = claim(conn, self.worker_id, now, limit, self.config.claim_lease, exclude, reclaim=reclaim)
            if len(claimed) == limit or not self.unfanned:
                return claimed, None, 0
            taking = Counter(c.subscription_id for c in claimed)

            def room_for(subscription_id: str, concurrency: int | None, timeout: float | None) -> int:
                cap = self._cap(subscription_id, concurrency, timeout)
                return cap - self.held[subscription_id] - taking[subscription_id]

            room = limit - len(claimed)
            notices = min(FAN_OUT_BATCH, self.config.batch_size, room)
            lease = Lease(self.worker_id, now + self.config.claim_lease, room, room_for)
            return claimed, fan_out(conn, now, notices, lease), notices

        claimed, done, notices = await self._db(work)
        if reclaim and len(claimed) < limit:
            # Expired leases come first: a short claim means none is left for now.
            self.next_reclaim = time.monotonic() + _RECLAIM_EVERY
        if done is None:
            return claimed
        self._fanned(done, notices)
        return claimed + done.taken

    async def _renew(self) -> None:
        now, ids = self.now(), list(self.holding)
        await self._db(lambda conn: renew(conn, self.worker_id, ids, now + self.config.claim_lease, now))

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    async def run(self) -> DeliveryStats:
        try:
            await self._loop()
        finally:
            for task in self.tasks:
                task.cancel()
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)
        return self.stats

    async def _send(self, subscription_id: str, queue: deque[Claimed]) -> None:
        """One of a subscription's senders: send from its queue until it is empty or the pass stops.
        A request is signed as it leaves (a queue behind a slow receiver can wait minutes, and
        receivers refuse a stale `webhook-timestamp`)."""
        try:
            while queue and not self.stopping():
                claimed = queue.popleft()
                result = await self.sender.post(build_request(claimed, self.seconds(), self.config))
                self.finished.append((claimed, result))
                if len(self.finished) == 1:
                    self.first_finished = time.monotonic()
                    self.wake.set()
                elif len(self.finished) >= self._settle_size():
                    self.wake.set()
        finally:
            self.senders[subscription_id] -= 1

    async def _loop(self) -> None:
        more = True  # whether a claim may still find something
        batch = self.config.batch_size
        while True:
            # Claim in large batches: when a good share of the room is free, or little is in flight.
            while more and (self.room() >= batch // 2 or len(self.holding) < batch // 2) and self.room() > 0:
                if self.stopping():
                    break
                want = min(self.room(), batch)
                more = await self._claim_more(want) == want or self.unfanned
            if self.stopping():
                await self._wind_down()
                return
            if not self.holding:
                return
            # While everything in flight is slow, look for new notices (and a stop) now and then,
            # and renew the leases of what is held before half of them has gone.
            await self._wait(idle=not more or self.stop is not None)
            if self.broken is not None:
                self.broken.result()
            done, self.finished = self.finished, []
            more = True
            if self.holding and time.monotonic() >= self.renew_at:
                self.renew_at = time.monotonic() + self.renew_every
                await self._renew()
            if not done:
                await self._fan_out()
                continue
            await self._settle(done)

    def _settle_size(self) -> int:
        return min(self.settle_batch, len(self.holding))

    async def _wait(self, idle: bool) -> None:
        """Until a batch of outcomes is ready to record: `settle_batch` of them, all that is held, or
        the first has waited `SETTLE_WAIT`; or a sender broke, leases are due for renewal, or (when
        `idle`) `_IDLE_POLL` has passed."""
        deadline = self.renew_at
        if idle:
            deadline = min(deadline, time.monotonic() + _IDLE_POLL)
        while len(self.finished) < self._settle_size() and self.broken is None:
            if self.finished:
                deadline = min(deadline, self.first_finished + SETTLE_WAIT)
            wait = deadline - time.monotonic()
            if wait <= 0:
                return
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self.wake.wait()

    def _sender_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # A bug, not a failed attempt (those are results): the pass fails rather than wait for
            # a request that will never be recorded.
            self.broken = task
            self.wake.set()

    async def _settle(self, outcomes: list[tuple[Claimed, AttemptResult]]) -> None:
        """Record the outcomes of finished requests."""
        for claimed, _ in outcomes:
            del self.holding[claimed.id]
            self.held[claimed.subscription_id] -= 1
        now = self.now()
        recorded = await self._db(lambda conn: record(conn, self.worker_id, now, outcomes, self.config, self.rng))
        self.stats.delivered += recorded.delivered
        self.stats.retrying += recorded.retrying
        self.stats.dead += recorded.dead
        self.stats.disabled.extend(recorded.disabled)
        if recorded.disabled:
            # Their `subscription.disabled` notices go out in this pass too.
            await self._fan_out()

    async def _wind_down(self) -> None:
        """Stopping: senders start nothing more; requests in flight get `STOP_GRACE` seconds to
        finish and are recorded; those still unanswered are cancelled and, with the ones that never
        started, released."""
        if self.tasks:
            _, unfinished = await asyncio.wait(self.tasks, timeout=STOP_GRACE)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        done, self.finished = self.finished, []
        if done:
            await self._settle(done)
        if self.holding:
            now, ids = self.now(), list(self.holding)
            await self._db(lambda conn: release(conn, self.worker_id, ids, now))
            self.holding.clear()

    def room(self) -> int:
        return self.config.max_in_flight - len(self.holding)

    def _cap(self, subscription_id: str, concurrency: int | None, timeout_seconds: float | None) -> int:
        """How many of a subscription's deliveries this worker may hold: as many rounds of its
        concurrency as fit in the lease, each round lasting at most one timeout (2 to 8 rounds)."""
        timeout = timeout_seconds or self.config.timeout.total_seconds()
        spare = (self.config.claim_lease - _LEASE_MARGIN).total_seconds()
        rounds = max(2, min(8, int(spare // timeout)))
        return rounds * self.sender.limit(subscription_id, concurrency)

    async def _claim_more(self, limit: int) -> int:
        saturated = {sub for sub, held in self.held.items() if held >= self.caps.get(sub, 1)}
        reclaim = time.monotonic() >= self.next_reclaim
        batch = await self._claim(limit, saturated, reclaim)
        seen: dict[str, int | None] = {}  # a subscription's settings are read once per batch
        taken = 0
        for claimed in batch:
            if claimed.id in self.holding:
                # Our own lease ran out while we held it (the database stalled past a renewal) and
                # the claim took it back: it is queued or in flight already, now with a new lease.
                continue
            taken += 1
            sub = claimed.subscription_id
            if sub not in seen:
                seen[sub] = claimed.concurrency
                self.caps[sub] = self._cap(sub, claimed.concurrency, claimed.timeout_seconds)
            queue = self.queues.get(sub)
            if queue is None:
                queue = self.queues[sub] = deque()
            queue.append(claimed)
            self.holding[claimed.id] = claimed
            self.held[sub] += 1
        for sub, concurrency in seen.items():
            queue = self.queues[sub]
            for _ in range(min(len(queue), self.sender.limit(sub, concurrency) - self.senders[sub])):
                self.senders[sub] += 1
                task = asyncio.create_task(self._send(sub, queue))
                self.tasks.add(task)
                task.add_done_callback(self._sender_done)
        self.stats.claimed += taken
        return len(batch)


@dataclass(frozen=True)
class PingResult:
    """The outcome of `send_test`: the test's own `webhook-id` and what the target answered."""

    webhook_id: str
    result: AttemptResult


async def send_test(
    engine: Engine, config: AlertsConfig, subscription_id: str, now: datetime | None = None
) -> PingResult:
    """Send a signed `test.ping` to a subscription now, outside the outbox, and return the answer."""
    moment = now or utcnow()
    s = SUBSCRIPTIONS.c
    with engine.connect() as conn:
        row = conn.execute(select(SUBSCRIPTIONS).where(s.id == subscription_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no subscription {subscription_id!r}")
    payload = {
        "type": "test.ping",
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
        "data": {"subscription_id": subscription_id, "title": "Test notice: this webhook works"},
    }
    claimed = Claimed(
        id=0,
        webhook_id=signing.new_webhook_id(),
        subscription_id=subscription_id,
        attempts=0,
        notice_type="test.ping",
        payload_json=formats.encode(payload),
        url=row.url,
        format=row.format,
        keys=signing_keys(row.secret, row.previous_secret, row.previous_secret_expires_at, moment),
        concurrency=row.concurrency,
        timeout_seconds=row.timeout_seconds,
    )
    async with Sender(config) as sender:
        result = await sender.post(build_request(claimed, int(moment.timestamp()), config))
    return PingResult(claimed.webhook_id, result)
