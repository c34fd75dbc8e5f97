"""Prometheus metrics, in a registry of their own (never the process-global one), so that several
apps or tests in one process do not collide.

Every label of a finite set is exported, at 0 when nothing has it (`timeline_deliveries{status="dead"} 0`),
so that an alert rule sees a zero rather than "no data".

Two kinds: what the database knows is read at scrape time by `DatabaseCollector` (cheap COUNT/GROUP BY
queries: correct however many workers share the database); what only a process knows (how long its
scans take, how its feed polls end) is recorded by that process through `Metrics`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from time import perf_counter

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, case, func, inspect, select

from alerts.models import Delivery, DeliveryAttempt, Notice
from alerts.statements import STATUSES as DELIVERY_STATUSES
from timeline.clock import utcnow
from timeline.config.milestones import STATUSES as MILESTONE_STATUSES
from timeline.feeds.models import Feed
from timeline.store import MILESTONES

log = logging.getLogger(__name__)

NOTICES = Notice.__table__  # type: ignore[attr-defined]
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
ATTEMPTS = DeliveryAttempt.__table__  # type: ignore[attr-defined]
POLL_RESULTS = ("ok", "not_modified", "error")
FEED_STATUSES = ("new", "ok", "not_modified", "error")
NOTICE_TYPES = (
    "milestone.upcoming",
    "milestone.window_opened",
    "milestone.due",
    "milestone.overdue",
    "milestone.rescheduled",
    "milestone.status_changed",
    "milestone.added",
    "milestone.removed",
    "milestone.slip_reported",
    "feed.item_matched",
    "feed.failing",
    "feed.recovered",
    "subscription.disabled",
    "test.ping",
)
"""Every notice type the service makes: each is exported, at 0 until one is created."""
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """One registry with the in-process metrics; `watch(engine)` adds the database-derived ones."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.scan_seconds = Histogram(
            "timeline_scan_duration_seconds", "Duration of one due-date scan", registry=self.registry
        )
        self.feed_polls = Counter(
            "timeline_feed_polls", "Feed polls by result (ok, not_modified, error)", ["result"], registry=self.registry
        )
        for result in POLL_RESULTS:
            self.feed_polls.labels(result=result)
        self.config_ok = Gauge(
            "timeline_config_last_reload_successful",
            "1 when the config files on disk are applied, 0 when the last reload failed (the last good config runs)",
            registry=self.registry,
        )
        self.config_success = Gauge(
            "timeline_config_last_reload_success_timestamp_seconds",
            "When the config files were last found applied (Unix time)",
            registry=self.registry,
        )

    def watch(self, engine: Engine) -> None:
        self.registry.register(DatabaseCollector(engine))

    @contextmanager
    def time_scan(self) -> Iterator[None]:
        start = perf_counter()
        try:
            yield
        finally:
            self.scan_seconds.observe(perf_counter() - start)

    def record_poll(self, result: str) -> None:
        self.feed_polls.labels(result=result).inc()

    def record_config(self, ok: bool, at: datetime | None) -> None:
        """The outcome of a config reload: `at` is when a good one happened (None for a failure)."""
        self.config_ok.set(1 if ok else 0)
        if ok and at is not None:
            self.config_success.set(at.timestamp())


def counted(values: Iterable[str], counts: dict[str, int]) -> list[tuple[str, int]]:
    """Each of `values` with its count (0 when absent), then any other value that has a count, sorted."""
    known = list(dict.fromkeys(values))
    return [(v, counts.get(v, 0)) for v in known] + sorted((v, n) for v, n in counts.items() if v not in known)


class DatabaseCollector(Collector):
    """Gauges and counters computed from the database at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("timeline_metrics_database_up", "1 when the scrape could read the database")
        try:
            with self.engine.connect() as conn:
                families = list(self._families(conn))
        except Exception as exc:
            log.warning("metrics: database unreadable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, conn: Connection) -> Iterator[Metric]:
        notices = CounterMetricFamily("timeline_notices", "Notices created, by type", labels=["type"])
        by_type: dict[str, int] = dict(
            conn.execute(select(NOTICES.c.type, func.count()).group_by(NOTICES.c.type)).all()
        )
        for kind, count in counted(NOTICE_TYPES, by_type):
            notices.add_metric([kind], count)
        yield notices

        milestones = GaugeMetricFamily("timeline_milestones", "Milestones (not archived), by status", labels=["status"])
        query = select(MILESTONES.c.status, func.count()).where(MILESTONES.c.archived_at.is_(None))
        by_status: dict[str, int] = dict(conn.execute(query.group_by(MILESTONES.c.status)).all())
        for status, count in counted(MILESTONE_STATUSES, by_status):
            milestones.add_metric([status], count)
        yield milestones

        d = DELIVERIES.c
        deliveries = GaugeMetricFamily("timeline_deliveries", "Deliveries, by status", labels=["status"])
        counts: dict[str, int] = dict(conn.execute(select(d.status, func.count()).group_by(d.status)).all())
        for status, count in counted(DELIVERY_STATUSES, counts):
            deliveries.add_metric([status], count)
        yield deliveries
        depth = GaugeMetricFamily("timeline_outbox_depth", "Deliveries waiting to be sent (pending or in flight)")
        depth.add_metric([], counts.get("pending", 0) + counts.get("in_flight", 0))
        yield depth
        oldest = conn.execute(select(func.min(d.created_at)).where(d.status == "pending")).scalar()
        age = GaugeMetricFamily("timeline_outbox_oldest_pending_age_seconds", "Age of the oldest pending delivery")
        age.add_metric([], max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0)
        yield age

        yield self._latency(conn)
        if inspect(conn).has_table("feeds"):
            yield self._feeds(conn)

    def _latency(self, conn: Connection) -> Metric:
        a = ATTEMPTS.c
        columns = [func.count(), func.coalesce(func.sum(a.latency_ms), 0.0)]
        columns += [func.coalesce(func.sum(case((a.latency_ms <= b * 1000, 1), else_=0)), 0) for b in LATENCY_BUCKETS]
        row = conn.execute(select(*columns)).one()
        total, total_ms, cumulative = int(row[0]), float(row[1]), [int(v) for v in row[2:]]
        buckets = [(str(b), n) for b, n in zip(LATENCY_BUCKETS, cumulative, strict=True)] + [("+Inf", total)]
        family = HistogramMetricFamily(
            "timeline_delivery_latency_seconds", "Duration of webhook delivery attempts (from the attempts table)"
        )
        family.add_metric([], buckets, sum_value=total_ms / 1000)
        return family

    def _feeds(self, conn: Connection) -> Metric:
        feeds = Feed.__table__  # type: ignore[attr-defined]
        family = GaugeMetricFamily(
            "timeline_feeds", "Active feeds, by the result of their last poll", labels=["status"]
        )
        query = select(feeds.c.status, func.count()).where(feeds.c.active.is_(True)).group_by(feeds.c.status)
        for status, count in counted(FEED_STATUSES, dict(conn.execute(query).all())):
            family.add_metric([status], count)
        return family
