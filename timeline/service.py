"""The service: one object holding settings, the engine and the config state, with one method per
job (reload the config, scan due dates, poll feeds, deliver). The scheduler, `timeline once` and the
web app all call these; none of them holds logic of its own.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from alerts.sqltypes import utcnow
from timeline.db import make_engine, upgrade
from timeline.errors import ConfigError
from timeline.scan import scan_due
from timeline.settings import Settings
from timeline.sync import SyncResult, sync_config

log = logging.getLogger(__name__)

CONFIG_JOB = "reload-config"
Job = tuple[str, Callable[[], object], timedelta]


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


class Service:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.config = ConfigState()
        self.stopping = threading.Event()

    def jobs(self) -> list[Job]:
        """The scheduler's jobs: (name, callable, interval)."""
        s = self.settings
        return [
            (CONFIG_JOB, self.reload_config, s.reload_interval),
            ("due-scan", self.scan, s.scan_interval),
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
                result = sync_config(self.engine, self.settings.milestones_file, now or utcnow())
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
        created = scan_due(self.engine, now or utcnow(), notify_past=self.settings.notify_past)
        if created:
            log.info("due scan created %d notices", len(created), extra={"notices": created[:20]})
        return created

    def once(self, now: datetime | None = None) -> CycleReport:
        """One whole cycle: sync the config, poll due feeds, scan due dates, deliver."""
        moment = now or utcnow()
        result = self.reload_config(moment, force=True)
        if self.config.error is not None:
            raise self.config.error
        notices = self.scan(moment)
        return CycleReport(result, notices)
