"""Plain settings of the alerts engine. `timeline` builds an `AlertsConfig` from its own settings."""

from __future__ import annotations

import functools
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
class AlertsConfig:
    """How deliveries are made.

    `retry_schedule` holds the waits between attempts: a delivery gets `len(retry_schedule) + 1`
    attempts, then it is dead. `timeout` and `concurrency` are per subscription, which may override
    them. A claimed delivery stays leased to its worker for `lease` (default: twice the longest
    possible timeout plus a margin), after which another worker may take it over.
    `allow_private_setting` and `allow_cidrs_setting` name the application's settings that lift the
    SSRF guard, for its refusals to say what to change.
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
    policy: AddressPolicy = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.retry_schedule:
            raise ValueError("retry_schedule needs at least one wait")
        if self.timeout <= timedelta(0) or self.concurrency < 1 or self.batch_size < 1 or self.max_in_flight < 1:
            raise ValueError("timeout, concurrency, batch_size and max_in_flight must be positive")
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
