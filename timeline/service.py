"""The service: one object holding settings, the engine and the config state, with one method per
job (reload the config, scan due dates, poll feeds, deliver). The scheduler, `timeline once` and the
web app all call these; none of them holds logic of its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from alerts.config import AlertsConfig
from alerts.delivery import DeliveryStats, deliver_once
from alerts.sqltypes import utcnow
from timeline.config.bundle import load_config
from timeline.db import make_engine, upgrade
from timeline.errors import ConfigError
from timeline.feeds.poll import PollReport, poll_due
from timeline.metrics import POLL_RESULTS, Metrics
from timeline.scan import scan_due
from timeline.settings import Settings
from timeline.sync import SyncResult, apply_config

log = logging.getLogger(__name__)

CONFIG_JOB = "reload-config"
DELIVER_JOB = "deliver"
Job = tuple[str, Callable[[], object], timedelta]


def alerts_config(settings: Settings) -> AlertsConfig:
    """The alerts engine's settings, from ours."""
    return AlertsConfig(
        allow_private=settings.webhook_allow_private,
        allow_cidrs=tuple(settings.webhook_allow_cidrs),
        timeout=settings.webhook_timeout,
        concurrency=settings.webhook_concurrency,
        retry_schedule=tuple(settings.retry_schedule),
        disable_after=settings.disable_after,
        lease=settings.delivery_lease,
    )


@dataclass
class ConfigState:
    """The last config applied, and the error of the last attempt if it failed (the last good
    state keeps running meanwhile)."""

    fingerprint: str | None = None
    applied_at: datetime | None = None
    error: ConfigError | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class CycleReport:
    sync: SyncResult | None
    notices: list[str]
    polls: PollReport | None = None
    deliveries: DeliveryStats | None = None


class Service:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.config = ConfigState()
        self.alerts = alerts_config(settings)
        self.metrics = Metrics()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stopping = threading.Event()

    def jobs(self) -> list[Job]:
        """The scheduler's jobs: (name, callable, interval)."""
        s = self.settings
        return [
            (CONFIG_JOB, self.reload_config, s.reload_interval),
            ("due-scan", self.scan, s.scan_interval),
            ("feed-poll", self.poll_feeds, s.feed_tick),
            (DELIVER_JOB, self.deliver, s.delivery_tick),
        ]

    def upgrade(self) -> None:
        upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def config_files(self) -> list[Path]:
        s = self.settings
        return [s.milestones_file, s.feeds_file, s.subscriptions_file]

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in self.config_files():
            digest.update(str(path).encode())
            digest.update(path.read_bytes() if path.is_file() else b"\0absent")
        return digest.hexdigest()

    def reload_config(self, now: datetime | None = None, *, force: bool = False) -> SyncResult | None:
        """Apply the config files if they changed since the last good apply. A broken file is logged
        with its `file:line: field: message` problems and leaves the database as it was."""
        with self.config.lock:
            fingerprint = self._fingerprint()
            if not force and fingerprint == self.config.fingerprint:
                return None
            try:
                bundle = load_config(self.settings, self.alerts)
                result = apply_config(self.engine, bundle, now or utcnow(), alerts_config=self.alerts)
            except ConfigError as exc:
                if self.config.error is None or str(exc) != str(self.config.error):
                    for problem in exc.problems:
                        log.error("config not applied: %s", problem)
                self.config.error = exc
                return None
            self.config.fingerprint = fingerprint
            self.config.applied_at = now or utcnow()
            self.config.error = None
            return result

    def scan(self, now: datetime | None = None) -> list[str]:
        with self.metrics.time_scan():
            created = scan_due(self.engine, now or utcnow(), notify_past=self.settings.notify_past)
        if created:
            log.info("due scan created %d notices", len(created), extra={"notices": created[:20]})
        return created

    def poll_feeds(self, now: datetime | None = None, **options: Any) -> PollReport:
        """Poll the feeds that are due (see `timeline.feeds.poll.poll_due` for `options`)."""
        options.setdefault("stop", self.stopping)
        report = poll_due(self.engine, self.settings, now or utcnow(), **options)
        for poll in report.feeds:
            if poll.status in POLL_RESULTS:
                self.metrics.record_poll(poll.status)
        return report

    def deliver(self, now: datetime | None = None) -> DeliveryStats:
        """Fan new notices out to subscriptions and send what is due, until nothing is left."""
        return deliver_once(self.engine, self.alerts, now or utcnow(), self.worker_id, stop=self.stopping)

    def once(self, now: datetime | None = None) -> CycleReport:
        """One whole cycle: sync the config, poll due feeds, scan due dates, deliver."""
        moment = now or utcnow()
        result = self.reload_config(moment, force=True)
        if self.config.error is not None:
            raise self.config.error
        polls = self.poll_feeds(moment)
        notices = self.scan(moment)
        return CycleReport(result, notices, polls, self.deliver())
