"""Pure decisions of the outbox: which subscriptions want a notice, when to try again, when to give up.

Nothing here touches a database, a network or a clock: `now` and the random source are arguments.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Literal, NamedTuple

from alerts import headers

#: Notices about the delivery machinery itself: tag and subject filters do not hide them.
UNFILTERED_TYPES = frozenset({"subscription.disabled", "test.ping"})
#: A timeout or a 429 waits at least this long before the next attempt.
SLOW_DOWN = timedelta(seconds=60)
#: Retry-After is honoured up to this wait.
MAX_RETRY_AFTER = timedelta(hours=24)
JITTER = 0.2


@dataclass(frozen=True)
class Filters:
    """What a subscription wants: notice types (glob patterns), and optionally tags and subjects."""

    events: tuple[str, ...]
    tags: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()


def wants(filters: Filters, notice_type: str, tags: Sequence[str], subjects: Sequence[str]) -> bool:
    """Whether a notice of `notice_type` carrying `tags` and `subjects` goes to this subscription.

    The type must match one of the glob patterns (`milestone.*`, `*`). A non-empty tag (subject)
    filter keeps only notices carrying at least one of those tags (subjects), except the notices
    about delivery itself (`UNFILTERED_TYPES`).
    """
    if not any(fnmatchcase(notice_type, pattern) for pattern in filters.events):
        return False
    if notice_type in UNFILTERED_TYPES:
        return True
    if filters.tags and not set(filters.tags).intersection(tags):
        return False
    return not (filters.subjects and not set(filters.subjects).intersection(subjects))


class AttemptResult(NamedTuple):
    """What one attempt came to. `status_code` is None when no answer came (`error` says why);
    `permanent`: retrying cannot help (see `alerts.channels`).
    (A named tuple: one is made per request, cheaper than a frozen dataclass: see
    docs/design.md#per-request-objects-built-once.)"""

    status_code: int | None
    latency_ms: float
    error: str | None = None
    timed_out: bool = False
    retry_after: str | None = None
    excerpt: str | None = None
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Decision:
    """What becomes of a delivery after an attempt."""

    status: Literal["delivered", "pending", "dead"]
    next_attempt_at: datetime | None = None
    disable_reason: str | None = None


DELIVERED = Decision("delivered")


def retry_wait(result: AttemptResult, step: timedelta, now: datetime, rng: random.Random) -> timedelta:
    """The wait before the next attempt, given the schedule's `step` for this attempt.

    The step with ±20 % jitter; a usable Retry-After instead, kept within [step, 24 h]; at least
    60 s after a timeout or a 429.
    """
    wait = step * rng.uniform(1 - JITTER, 1 + JITTER)
    asked = headers.retry_after(result.retry_after, now)
    if asked is not None:
        wait = max(step, min(asked, MAX_RETRY_AFTER))
    if result.timed_out or result.status_code == 429:
        wait = max(wait, SLOW_DOWN)
    return wait


def decide(
    result: AttemptResult,
    attempts: int,
    now: datetime,
    schedule: Sequence[timedelta],
    rng: random.Random,
) -> Decision:
    """The fate of a delivery after its `attempts`-th attempt (counting this one) came to `result`.

    Only 2xx is a success (3xx too is a failure: redirects are not followed). 410 Gone, or a result
    a channel marks `permanent`, makes the delivery dead and disables the subscription. Otherwise
    the next attempt follows the schedule (`schedule[attempts - 1]`), and after the last step the
    delivery is dead.
    """
    if result.ok:
        return DELIVERED
    if result.status_code == 410:
        return Decision("dead", disable_reason="the target answered 410 Gone")
    if result.permanent:
        return Decision("dead", disable_reason=result.error or "the target refused the delivery for good")
    if attempts > len(schedule):
        return Decision("dead")
    return Decision("pending", now + retry_wait(result, schedule[attempts - 1], now, rng))


def should_disable(
    failing_since: datetime | None, last_success_at: datetime | None, now: datetime, disable_after: timedelta
) -> bool:
    """Whether a subscription has been failing, without a success, for `disable_after` or more."""
    if failing_since is None:
        return False
    if last_success_at is not None and last_success_at >= failing_since:
        return False
    return now - failing_since >= disable_after
