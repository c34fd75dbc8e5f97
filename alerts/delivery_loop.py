"""The delivery loop: one pass of fan-out, claim, send and record, until nothing is left.

    hold = {}                                    # claimed by this worker, not yet recorded
    loop:
        while there is room and a claim may find something:
            claim due deliveries (expired leases first, now and then), fanning out new
            notices in the same transaction when too few are due; queue each under its
            subscription and start up to its concurrency of senders
        if stopping: wind down (grace for requests in flight, release the rest); return
        if nothing is held: return
        wait until a batch of outcomes is ready (settle_batch, or the first waited
            settle_wait), a sender broke, leases need renewal, or idle_poll passed
        renew the leases of what is held at half their length
        no outcome: fan out a batch of notices; else record the outcomes in one transaction
    each sender: while its queue has deliveries: send one through its channel, signed as it leaves

Each subscription has its own concurrency and timeout; a worker holds only a few rounds of a
subscription's deliveries (`_cap`), so a receiver that hangs ties up only its own. Database calls
never leave requests in flight waiting behind a lock (`_db`). The sizes and waits are
`AlertsConfig.tuning`; the sending is `alerts.channels`.
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
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from alerts.channels import Channels
from alerts.config import AlertsConfig
from alerts.digest_store import publish_due_digests
from alerts.health import cancel_orphans
from alerts.outbox import Claimed, FanOut, Lease, claim, fan_out, record, release, renew
from alerts.policy import AttemptResult

_T = TypeVar("_T")


@dataclass
class DeliveryStats:
    """What one delivery pass did."""

    notices: int = 0
    created: int = 0
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    disabled: list[str] = field(default_factory=list)


class DeliveryLoop:
    """One pass (see the module's docstring); `run` it once."""

    def __init__(
        self,
        engine: Engine,
        config: AlertsConfig,
        now: datetime,
        worker_id: str,
        channels: Channels,
        rng: random.Random,
        stop: threading.Event | None = None,
    ) -> None:
        self.config, self.worker_id, self.channels, self.rng = config, worker_id, channels, rng
        self.stop = stop
        self.start_now, self.start, self.start_unix = now, time.monotonic(), now.timestamp()
        self.stats = DeliveryStats()
        # What this worker holds (claimed, not yet recorded or released), and per subscription the
        # queue of those not sent yet and the count of its senders: one task per sender, not per
        # request (a task, its callback and a semaphore's wake-up per request cost more than the request's
        # own bookkeeping: docs/design.md#outcomes-recorded-in-batches-a-few-senders-per-subscription).
        self.holding: dict[int, Claimed] = {}
        self.queues: dict[str, deque[Claimed]] = {}
        self.senders: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[None]] = set()
        # Finished requests, and the event that wakes the loop for them.
        self.finished: list[tuple[Claimed, AttemptResult]] = []
        self.first_finished = 0.0  # when the first of them finished (monotonic)
        self.settle_batch = max(1, min(config.tuning.settle_batch, config.max_in_flight // 2))
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
        that (the two threads trade the GIL back and forth, about once per delivery: see
        docs/design.md#sqlite-work-on-the-event-loop-when-the-lock-is-free). When another connection
        holds the lock, and always on PostgreSQL (whose calls wait on the network), it runs in a
        thread, so requests in flight never wait behind a lock. `work` must change nothing but the
        database: a try that met a held lock is run again."""
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
        now, batch = self.now(), self.config.tuning.fan_out_batch
        self._fanned(await self._db(lambda conn: fan_out(conn, now, batch)), batch)

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
                cancel_orphans(conn, now, self.config)
                if publish_due_digests(conn, now):
                    self.unfanned = True  # the new digests fan out below, in this transaction
            claimed = claim(conn, self.worker_id, now, limit, self.config.claim_lease, exclude, reclaim=reclaim)
            if len(claimed) == limit or not self.unfanned:
                return claimed, None, 0
            taking = Counter(c.subscription_id for c in claimed)

            def room_for(subscription_id: str, concurrency: int | None, timeout: float | None) -> int:
                cap = self._cap(subscription_id, concurrency, timeout)
                return cap - self.held[subscription_id] - taking[subscription_id]

            room = limit - len(claimed)
            notices = min(self.config.tuning.fan_out_batch, self.config.batch_size, room)
            lease = Lease(self.worker_id, now + self.config.claim_lease, room, room_for)
            return claimed, fan_out(conn, now, notices, lease), notices

        claimed, done, notices = await self._db(work)
        if reclaim and len(claimed) < limit:
            # Expired leases come first: a short claim means none is left for now.
            self.next_reclaim = time.monotonic() + self.config.tuning.reclaim_every.total_seconds()
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
                result = await self.channels.send(claimed, self.seconds())
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
        the first has waited `settle_wait`; or a sender broke, leases are due for renewal, or (when
        `idle`) `idle_poll` has passed."""
        deadline = self.renew_at
        if idle:
            deadline = min(deadline, time.monotonic() + self.config.tuning.idle_poll.total_seconds())
        while len(self.finished) < self._settle_size() and self.broken is None:
            if self.finished:
                deadline = min(deadline, self.first_finished + self.config.tuning.settle_wait.total_seconds())
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
        """Stopping: senders start nothing more; requests in flight get `stop_grace` seconds to
        finish and are recorded; those still unanswered are cancelled and, with the ones that never
        started, released."""
        if self.tasks:
            _, unfinished = await asyncio.wait(self.tasks, timeout=self.config.tuning.stop_grace.total_seconds())
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

    def limit(self, concurrency: int | None) -> int:
        """How many requests to a subscription may be in flight at once."""
        return concurrency or self.config.concurrency

    def room(self) -> int:
        return self.config.max_in_flight - len(self.holding)

    def _cap(self, subscription_id: str, concurrency: int | None, timeout_seconds: float | None) -> int:
        """How many of a subscription's deliveries this worker may hold: as many rounds of its
        concurrency as fit in the lease, each round lasting at most one timeout (2 to 8 rounds)."""
        timeout = timeout_seconds or self.config.timeout.total_seconds()
        spare = (self.config.claim_lease - self.config.tuning.lease_margin).total_seconds()
        rounds = max(2, min(8, int(spare // timeout)))
        return rounds * self.limit(concurrency)

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
            for _ in range(min(len(queue), self.limit(concurrency) - self.senders[sub])):
                self.senders[sub] += 1
                task = asyncio.create_task(self._send(sub, queue))
                self.tasks.add(task)
                task.add_done_callback(self._sender_done)
        self.stats.claimed += taken
        return len(batch)
