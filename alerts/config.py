"""Plain settings of the alerts engine. `timeline` builds an `AlertsConfig` from its own settings."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from alerts.guard import AddressPolicy

DEFAULT_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
#: The longest timeout a subscription may ask for; leases are sized from it.
MAX_TIMEOUT = timedelta(seconds=60)


@dataclass(frozen=True)
class Tuning:
    """Batch sizes and waits of the delivery loop and the outbox (see `alerts.delivery_loop`)."""

    fan_out_batch: int = 500
    """Notices turned into deliveries per transaction (at most `batch_size` when a claim fans out)."""
    settle_batch: int = 100
    """Outcomes recorded per transaction (at most half of `max_in_flight`, so that claims refill
    while the other half is sent), or fewer once the first has waited `settle_wait`: recording each
    answer as it comes costs more than sending it."""
    settle_wait: timedelta = timedelta(milliseconds=20)
    idle_poll: timedelta = timedelta(milliseconds=500)
    """While everything in flight is slow, new notices (and a stop) are looked for this often."""
    reclaim_every: timedelta = timedelta(seconds=10)
    """Expired leases are looked for until none is left, then again after this long."""
    lease_margin: timedelta = timedelta(seconds=30)
    """Part of a lease kept free of request rounds when sizing what a worker may hold."""
    stop_grace: timedelta = timedelta(seconds=5)
    """Once asked to stop, requests in flight get this long to finish; the rest are released."""
    success_write_every: timedelta = timedelta(seconds=30)
    """A healthy subscription's `last_success_at` is rewritten at most this often. Every worker
    records into the same subscription row: writing it on each batch made that row the lock all
    workers queued on. A failure, and the first success after one, are always written."""
    orphan_window: timedelta = timedelta(minutes=10)
    """How far back `alerts.health.cancel_orphans` looks for subscriptions made inactive."""

    def __post_init__(self) -> None:
        if min(self.fan_out_batch, self.settle_batch) < 1:
            raise ValueError("fan_out_batch and settle_batch must be positive")


@dataclass(frozen=True)
class AlertsConfig:
    """How deliveries are made.

    `retry_schedule` holds the waits between attempts: a delivery gets `len(retry_schedule) + 1`
    attempts, then it is dead. `timeout` and `concurrency` are per subscription, which may override
    them. A claimed delivery stays leased to its worker for `lease` (default: twice the longest
    possible timeout plus a margin), after which another worker may take it over.
    `tuning` holds the delivery loop's batch sizes and waits (tests set them; operators need not).
    `removed_grace`: how long a subscription that disappeared from the config file keeps its pending
    deliveries paused (they resume if it comes back) before they are cancelled.
    `resolve` turns a host name into addresses when a subscription is created (default: the
    system resolver, bounded in time), to refuse a name that reaches only refused addresses.
    `allow_private_setting` and `allow_cidrs_setting` name the application's settings that lift the
    SSRF guard, for its refusals to say what to change.
    Email subscriptions go through the SMTP server of `smtp_url` (`smtp://user:pass@host:587`, or
    `smtps://`) from `mail_from`; their `List-Unsubscribe` links start with `public_url`. The email
    and Apprise channels each run their blocking calls in a pool of `channel_threads` threads.
    """

    allow_private: bool = False
    allow_cidrs: tuple[str, ...] = ()
    allow_private_setting: str | None = None
    allow_cidrs_setting: str | None = None
    timeout: timedelta = timedelta(seconds=15)
    concurrency: int = 4
    retry_schedule: tuple[timedelta, ...] = DEFAULT_SCHEDULE
    disable_after: timedelta = timedelta(days=5)
    rotation_overlap: timedelta = timedelta(hours=24)
    lease: timedelta | None = None
    batch_size: int = 100
    max_in_flight: int = 200
    tuning: Tuning = field(default_factory=lambda: Tuning())
    removed_grace: timedelta = timedelta(hours=1)
    resolve: Callable[[str], Sequence[str]] | None = field(default=None, repr=False, compare=False)
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str | None = None
    public_url: str | None = None
    channel_threads: int = 8
    policy: AddressPolicy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.retry_schedule:
            raise ValueError("retry_schedule needs at least one wait")
        if min(
            self.concurrency, self.batch_size, self.max_in_flight, self.channel_threads
        ) < 1 or self.timeout <= timedelta(0):
            raise ValueError("timeout, concurrency, batch_size, max_in_flight and channel_threads must be positive")
        if self.lease is not None and self.lease < 2 * self.timeout:
            raise ValueError("lease must last at least two request timeouts")
        policy = AddressPolicy.from_settings(
            self.allow_private,
            self.allow_cidrs,
            private_setting=self.allow_private_setting,
            cidrs_setting=self.allow_cidrs_setting,
        )
        object.__setattr__(self, "policy", policy)

    @functools.cached_property
    def claim_lease(self) -> timedelta:
        if self.lease is not None:
            return self.lease
        return 2 * max(self.timeout, MAX_TIMEOUT) + timedelta(seconds=30)
