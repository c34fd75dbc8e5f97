"""Storing a batch of finished polls: each feed inside its own error boundary.

    decide each feed's new state              (pure; a decision that fails becomes an error state)
    read the stored entries of parsed feeds   (one read, outside the write transaction)
    plan each parsed feed's entries           (pure, with the rule's regex under its time limits)
    in one write transaction:
        save the states that change nothing else, together  (one by one if that fails)
        for each other feed, in a savepoint: its state, its plan, its health notices
        a feed whose savepoint fails is saved again as failed, with the reason

So one feed whose headers, items or values break something is recorded as that feed's failure
(`timeline feeds` shows it, and `feed.failing` follows after TIMELINE_FEED_ALERT_AFTER), and every
other feed of the batch is saved. A feed whose claim was lost to another worker is reported `lost`
and nothing of it is written.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine

from alerts.notices import publish
from timeline.db import write_transaction
from timeline.feeds.decide import Decision, Outcome, decide
from timeline.feeds.fetch import FetchResult
from timeline.feeds.health import failing_notice, recovered_notice
from timeline.feeds.ingest import IngestCounts, MilestoneIndex, apply_plan, flags, stored_entries
from timeline.feeds.match import TimedMatcher
from timeline.feeds.parse import Document
from timeline.feeds.plan import IngestPlan, plan_ingest
from timeline.feeds.report import FeedPoll
from timeline.feeds.store import FeedRow, LostClaim, save_state, save_states
from timeline.feeds.text import clean
from timeline.settings import Settings

log = logging.getLogger(__name__)
_LOST = "lost the claim to another worker"


@dataclass
class Done:
    """A finished fetch (and parse) waiting to be written."""

    feed: FeedRow
    fetch: FetchResult
    body_hash: str | None
    document: Document | None
    parse_seconds: float

    @property
    def parsed(self) -> bool:
        return self.document is not None and self.document.error is None


def _reason(what: str, exc: BaseException) -> str:
    return clean(f"{what}: {exc.__class__.__name__}: {exc}")[:500]


class Writer:
    """Writes batches of `Done` polls for one poll run (see the module's docstring)."""

    def __init__(self, engine: Engine, settings: Settings, now: datetime) -> None:
        self.engine = engine
        self.settings = settings
        self.now = now
        self.random = random.Random()
        self.milestones = MilestoneIndex()

    def write(self, batch: list[Done]) -> list[FeedPoll]:
        decided = [self._decide(done) for done in batch]
        plans = self._plan(batch, decided)
        results: dict[int, FeedPoll] = {}
        with write_transaction(self.engine) as conn:
            simple = [i for i, done in enumerate(batch) if not _needs_more(done, decided[i])]
            self._save_simple(conn, [(i, batch[i], decided[i]) for i in simple], results)
            for i, done in enumerate(batch):
                if i not in results:
                    results[i] = self._save_one(conn, done, decided[i], plans.get(i))
        return [results[i] for i in range(len(batch))]

    def _decide(self, done: Done, error: str | None = None) -> Decision:
        """The feed's next state. A response that makes deciding fail is a failure of that feed."""
        fetched, document = done.fetch, done.document
        found = fetched.error or (document.error if document else None)
        outcome = Outcome(
            status=fetched.status,
            headers=fetched.headers,
            error=clean(error) if error else clean(found) if found else None,
            body_hash=done.body_hash,
            parsed=done.parsed and error is None,
            permanent_url=fetched.permanent_url,
        )
        jitter, alert_after = self.random.random(), self.settings.feed_alert_after
        try:
            return decide(done.feed.state, outcome, self.now, jitter=jitter, alert_after=alert_after)
        except Exception as exc:
            log.exception("deciding the state of feed %s failed", done.feed.id)
            failed = Outcome(status=fetched.status, error=_reason("reading the response failed", exc))
            return decide(done.feed.state, failed, self.now, jitter=jitter, alert_after=alert_after)

    def _plan(self, batch: list[Done], decided: list[Decision]) -> dict[int, IngestPlan]:
        """The entry plans of the parsed feeds, read and decided before the write transaction (their
        rules' regexes run here). A feed whose plan fails is decided again as failed."""
        wanted = [i for i, done in enumerate(batch) if _stores_entries(done, decided[i])]
        plans: dict[int, IngestPlan] = {}
        if not wanted:
            return plans
        with self.engine.connect() as conn:
            for i in wanted:
                done = batch[i]
                entries = done.document.entries if done.document else ()
                try:
                    stored = stored_entries(conn, done.feed.id, entries)
                    plans[i] = plan_ingest(flags(done.feed), entries, stored, TimedMatcher(done.feed.rule))
                except Exception as exc:
                    log.exception("planning the entries of feed %s failed", done.feed.id)
                    decided[i] = self._decide(done, _reason("reading its items failed", exc))
            conn.rollback()
        return plans

    def _save_simple(
        self, conn: Connection, simple: list[tuple[int, Done, Decision]], results: dict[int, FeedPoll]
    ) -> None:
        """Save states that change nothing else together; if that fails, one by one."""
        if not simple:
            return
        try:
            updates = [(d.feed, dec.state, d.feed.backlog_done) for _, d, dec in simple]
            with conn.begin_nested():
                lost = save_states(conn, updates, self.now)
        except Exception:
            log.exception("saving %d feed states together failed; saving them one by one", len(simple))
            for i, done, decision in simple:
                results[i] = self._save_one(conn, done, decision, None)
            return
        for i, done, decision in simple:
            results[i] = failed_poll(done, _LOST, status="lost") if done.feed.id in lost else _result(done, decision)

    def _save_one(self, conn: Connection, done: Done, decision: Decision, plan: IngestPlan | None) -> FeedPoll:
        try:
            with conn.begin_nested():
                return self._apply(conn, done, decision, plan)
        except LostClaim:
            return failed_poll(done, _LOST, status="lost")
        except Exception as exc:
            log.exception("storing the poll of feed %s failed", done.feed.id)
            return self._record_failure(conn, done, _reason("storing the result failed", exc))

    def _apply(self, conn: Connection, done: Done, decision: Decision, plan: IngestPlan | None) -> FeedPoll:
        feed, state = done.feed, decision.state
        stored = plan is not None and _stores_entries(done, decision)
        save_state(conn, feed, state, self.now, backlog_done=feed.backlog_done or stored)
        notices: list[str] = []
        counts = None
        skipped = list(done.document.skipped) if done.document is not None else []
        if stored and plan is not None:
            counts = apply_plan(conn, feed, plan, self.now, self.milestones)
            notices.extend(counts.notices)
            skipped += plan.skipped
        if skipped:
            first = skipped[0]
            many = f"{len(skipped)} items were" if len(skipped) > 1 else "1 item was"
            log.warning(
                "feed %s: %s left out or left unmatched; item %d: %s",
                feed.id,
                many,
                first.position + 1,
                first.reason,
                extra={"feed": feed.id},
            )
        health = []
        if decision.failing and state.failing_since is not None:
            health.append(
                failing_notice(feed, state.failing_since, state.consecutive_failures, state.last_error, self.now)
            )
        if decision.recovered_from is not None:
            health.append(recovered_notice(feed, decision.recovered_from, self.now))
        notices.extend(publish(conn, health, self.now))
        return _result(done, decision, counts, tuple(notices))

    def _record_failure(self, conn: Connection, done: Done, error: str) -> FeedPoll:
        """Store the feed as failed (with backoff) when storing its result failed."""
        try:
            with conn.begin_nested():
                return self._apply(conn, done, self._decide(done, error), None)
        except LostClaim:
            return failed_poll(done, _LOST, status="lost")
        except Exception:
            log.exception("recording the failure of feed %s failed", done.feed.id)
            return failed_poll(done, error)


def _stores_entries(done: Done, decision: Decision) -> bool:
    """Whether this poll's entries are stored: a new body, parsed, on a successful poll."""
    state = decision.state
    return done.parsed and state.status == "ok" and state.body_hash == done.body_hash


def _needs_more(done: Done, decision: Decision) -> bool:
    """Whether storing this poll takes more than a state update: entries, or a health notice."""
    return done.parsed or decision.failing or decision.recovered_from is not None


def _result(
    done: Done, decision: Decision, counts: IngestCounts | None = None, notices: tuple[str, ...] = ()
) -> FeedPoll:
    state = decision.state
    document = done.document
    skipped = (counts.skipped if counts else 0) + (len(document.skipped) if document else 0)
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
        skipped=skipped,
        fetch_seconds=done.fetch.elapsed,
        parse_seconds=done.parse_seconds,
        next_poll_at=state.next_poll_at,
    )


def failed_poll(done: Done, error: str, status: str = "error") -> FeedPoll:
    """The report of a poll that could not be stored at all."""
    return FeedPoll(
        feed_id=done.feed.id,
        url=done.feed.fetch_url,
        status=status,
        http_status=done.fetch.status,
        error=error,
        fetch_seconds=done.fetch.elapsed,
        parse_seconds=done.parse_seconds,
    )
