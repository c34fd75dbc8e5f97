"""Pure decisions of feed polling: when to poll next, what a response means for the feed's state,
whether to parse, and which entries are new or edited. Nothing here touches the network, the
database or the clock: `now` and the jitter are arguments, so every rule is tested on plain values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.headers import freshness, retry_after

MAX_DELAY = timedelta(days=1)
"""Backoff, Retry-After and cache floors never push a poll further than this: no permanent stop."""
JITTER = 0.1
"""Up to this fraction of the delay is added at random, so feeds added together spread out."""
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class FeedState:
    """The polling state of one feed, as stored."""

    interval: timedelta
    status: str = "new"
    fetch_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_status_code: int | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    failing_since: datetime | None = None
    failing_notified_at: datetime | None = None
    next_poll_at: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What one poll found: the HTTP summary, and the parse's verdict when the body was parsed.

    `error` is set when there was no usable response (refused, timed out, too big, too many
    redirects, not a feed). `permanent_url` is the target of a chain of permanent redirects.
    """

    status: int | None = None
    headers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    error: str | None = None
    body_hash: str | None = None
    parsed: bool = False
    permanent_url: str | None = None


@dataclass(frozen=True)
class Decision:
    state: FeedState
    failing: bool = False
    """Publish `feed.failing` for the episode that started at `state.failing_since`."""
    recovered_from: datetime | None = None
    """Publish `feed.recovered` for the episode that started then."""


def needs_parse(state: FeedState, status: int | None, body_hash: str | None) -> bool:
    """A 200 whose body differs from the last parsed one; an identical body is not parsed again."""
    return status is not None and 200 <= status < 300 and body_hash is not None and body_hash != state.body_hash


def backoff(interval: timedelta, failures: int) -> timedelta:
    """interval, 2x, 4x, ... after 1, 2, 3 ... consecutive failures, capped at one day."""
    if failures <= 0:
        return min(interval, MAX_DELAY)
    grown: timedelta = interval * (2 ** min(failures - 1, 20))
    return min(grown, MAX_DELAY)


def _jittered(delay: timedelta, jitter: float) -> timedelta:
    return delay + delay * (JITTER * min(max(jitter, 0.0), 1.0))


def decide(state: FeedState, outcome: Outcome, now: datetime, *, jitter: float, alert_after: timedelta) -> Decision:
    """The feed's next state after `outcome`. `jitter` is a number in [0, 1) drawn by the caller."""
    status = outcome.status
    ok = outcome.error is None and status is not None and (status == 304 or 200 <= status < 300)
    if ok:
        return _success(state, outcome, now, jitter)
    return _failure(state, outcome, now, jitter, alert_after)


def _success(state: FeedState, outcome: Outcome, now: datetime, jitter: float) -> Decision:
    headers = outcome.headers
    delay = min(state.interval, MAX_DELAY)
    floor = freshness(headers, now) if "cache-control" in headers or "expires" in headers else None
    if floor is not None:
        delay = max(delay, min(floor, MAX_DELAY))
    not_modified = outcome.status == 304 or not outcome.parsed
    new = FeedState(  # every field named: this runs for every poll, and replace() is slow
        interval=state.interval,
        status="not_modified" if not_modified else "ok",
        fetch_url=outcome.permanent_url or state.fetch_url,
        etag=headers.get("etag") or (state.etag if outcome.status == 304 else None),
        last_modified=headers.get("last-modified") or (state.last_modified if outcome.status == 304 else None),
        body_hash=outcome.body_hash if outcome.parsed else state.body_hash,
        consecutive_failures=0,
        last_error=None,
        last_status_code=outcome.status,
        last_polled_at=now,
        last_success_at=now,
        failing_since=None,
        failing_notified_at=None,
        next_poll_at=now + _jittered(delay, jitter),
    )
    recovered = state.failing_since if state.failing_notified_at is not None else None
    return Decision(new, recovered_from=recovered)


def _failure(state: FeedState, outcome: Outcome, now: datetime, jitter: float, alert_after: timedelta) -> Decision:
    failures = state.consecutive_failures + 1
    delay = backoff(state.interval, failures)
    wait = retry_after(outcome.headers.get("retry-after"), now) if outcome.status in RETRY_AFTER_STATUSES else None
    next_poll = now + _jittered(delay, jitter)
    if wait is not None:
        # The server said when to come back: not before (capped), and with no jitter before it.
        next_poll = now + max(min(wait, MAX_DELAY), _jittered(min(state.interval, MAX_DELAY), jitter))
    since = state.failing_since or now
    failing = state.failing_notified_at is None and now - since >= alert_after
    new = dataclasses.replace(
        state,
        status="error",
        consecutive_failures=failures,
        last_error=outcome.error or f"HTTP {outcome.status}",
        last_status_code=outcome.status,
        last_polled_at=now,
        failing_since=since,
        failing_notified_at=now if failing else state.failing_notified_at,
        next_poll_at=next_poll,
    )
    return Decision(new, failing=failing)


@dataclass(frozen=True)
class EntryChanges:
    """Entries of one fetched document, sorted against those stored: hashes of identities."""

    new: tuple[str, ...]
    edited: tuple[str, ...]
    unchanged: tuple[str, ...]


def classify(fetched: Iterable[tuple[str, str]], stored: Mapping[str, str]) -> EntryChanges:
    """Sort `(identity_hash, content_hash)` pairs against `stored` (identity_hash -> content_hash).

    The first occurrence of an identity in a document wins (feeds do repeat items).
    """
    new: list[str] = []
    edited: list[str] = []
    unchanged: list[str] = []
    seen: set[str] = set()
    for identity, content in fetched:
        if identity in seen:
            continue
        seen.add(identity)
        if identity not in stored:
            new.append(identity)
        elif stored[identity] != content:
            edited.append(identity)
        else:
            unchanged.append(identity)
    return EntryChanges(tuple(new), tuple(edited), tuple(unchanged))
