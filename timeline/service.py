"""The service: one object holding settings, the engine and the config state, with one method per
job (reload the config, scan due dates, poll feeds, deliver). The scheduler, `timeline once` and the
web app all call these; none of them holds logic of its own.

Config reloads read the files' bytes once (`timeline.config.files`): the same bytes make the
fingerprint and are parsed. Bytes already applied, or already found broken, are not parsed again. An
edit is applied once the files have been quiet for TIMELINE_CONFIG_SETTLE (the newest file written
that long ago, or the same bytes seen that long), so a file caught half-written is never applied.
A failed apply is kept (`config_status()`) while the last good state serves, and cleared as soon as
the files on disk are good again, whatever their bytes.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from alerts.sending import DeliveryStats, deliver_once
from timeline.clock import utcnow
from timeline.clocksteps import Rebased, rebase
from timeline.config.bundle import ConfigBundle, check_config, config_snapshot, link_problems, load_config
from timeline.config.files import Snapshot
from timeline.db import make_engine, upgrade
from timeline.errors import ConfigError, Problem
from timeline.feeds.poll import PollReport, poll_due
from timeline.metrics import POLL_RESULTS, Metrics
from timeline.scan import scan_due
from timeline.settings import Settings, alerts_config
from timeline.sync import SyncResult, api_milestone_ids, apply_config

log = logging.getLogger(__name__)

CONFIG_JOB = "reload-config"
DELIVER_JOB = "deliver"
Job = tuple[str, Callable[[], object], timedelta]


@dataclass
class ConfigState:
    """The last config applied, and the error of the last attempt if it failed (the last good
    state keeps running meanwhile).

    `fingerprint` identifies the bytes applied; `failed` those of the last failure (with the parsed
    bundle when only applying it failed, e.g. an id clash with an API milestone: it is re-applied
    without parsing); `seen`/`seen_since` the newest bytes seen, while they settle."""

    fingerprint: str | None = None
    applied_at: datetime | None = None
    error: ConfigError | None = None
    failed: str | None = None
    failed_at: datetime | None = None
    failed_bundle: ConfigBundle | None = None
    checked_at: datetime | None = None
    seen: str | None = None
    seen_since: float = 0.0
    settling: timedelta | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class ConfigStatus:
    """What readiness and the page say about the config. `problems` quote the files: show them only
    to readers allowed to see the config; `summary` names files and lines, never their contents."""

    ok: bool
    problems: tuple[Problem, ...] = ()
    applied_at: datetime | None = None
    failed_at: datetime | None = None
    checked_at: datetime | None = None

    @property
    def summary(self) -> str:
        if self.ok:
            return "ok"
        by_file: dict[str, list[str]] = {}
        for problem in self.problems:
            lines = by_file.setdefault(problem.path.name, [])
            if problem.line is not None:
                lines.append(str(problem.line))
        files = "; ".join(
            f"{name} (line{'s' if len(lines) > 1 else ''} {', '.join(dict.fromkeys(lines))})" if lines else name
            for name, lines in by_file.items()
        )
        count = len(self.problems)
        serving = (
            f"the config applied at {self.applied_at:%Y-%m-%d %H:%M} UTC keeps running"
            if self.applied_at
            else "no config has been applied yet"
        )
        return f"not applied: {count} problem{'s' if count != 1 else ''} in {files}; {serving}"


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
            (CONFIG_JOB, self.reload_when_settled, s.reload_interval),
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

    def config_status(self) -> ConfigStatus:
        """Whether the config on disk is applied; if not, the problems of the last attempt."""
        state = self.config
        problems = tuple(state.error.problems) if state.error is not None else ()
        return ConfigStatus(state.error is None, problems, state.applied_at, state.failed_at, state.checked_at)

    def read_config(self, files: Snapshot | None = None) -> ConfigBundle:
        """The config files (`files`, or read now), checked against each other and against the
        milestones created through the API; ConfigError lists every problem."""
        return load_config(self.settings, self.alerts, files, self._api_ids())

    def _api_ids(self) -> set[str]:
        with self.engine.connect() as conn:
            return api_milestone_ids(conn)

    def reload_config(self, now: datetime | None = None, *, force: bool = False) -> SyncResult | None:
        """Apply the config files if their bytes changed since the last good apply and have settled.
        A broken file is logged with its `file:line: field: message` problems, recorded for
        `config_status()`, and leaves the database as it was. `force` applies now, settled or not."""
        moment = now or utcnow()
        with self.config.lock:
            state = self.config
            files = config_snapshot(self.settings)
            fingerprint = files.fingerprint
            state.checked_at = moment
            state.settling = None
            if not force and fingerprint == state.fingerprint:
                self._config_good(moment)  # back to the applied bytes: nothing to do, nothing wrong
                return None
            if not force and not self._settled(files, fingerprint):
                return None
            if not force and fingerprint == state.failed and state.failed_bundle is None:
                return None  # the same broken bytes: already reported
            bundle = state.failed_bundle if not force and fingerprint == state.failed else None
            try:
                if bundle is None:
                    bundle, problems = check_config(self.settings, self.alerts, files, self._api_ids())
                else:  # the files were good but the database disagreed: ask it again, parse nothing
                    problems = link_problems(bundle, self._api_ids())
                if problems:
                    raise ConfigError(problems)
                assert bundle is not None
                result = apply_config(
                    self.engine, bundle, moment, alerts_config=self.alerts, base_url=self.settings.base_url
                )
            except ConfigError as exc:
                self._config_failed(fingerprint, exc, bundle, moment)
                return None
            state.fingerprint, state.applied_at = fingerprint, moment
            self._config_good(moment)
            return result

    def reload_when_settled(self) -> SyncResult | None:
        """The config job: reload; when the edit found is still settling, wait until it has (on the
        job's own thread; a stop ends the wait) and reload again."""
        result = self.reload_config()
        while (left := self.config_settling()) is not None and not self.stopping.wait(left.total_seconds()):
            result = self.reload_config()
        return result

    def _settled(self, files: Snapshot, fingerprint: str) -> bool:
        """Whether the files have been quiet for the settle time: the newest was written that long
        ago (by the wall clock), or these same bytes were first seen that long ago (by a monotonic
        clock, which a step of the wall clock cannot fool). If not, `settling` says how long is left."""
        settle = self.settings.config_settle.total_seconds()
        state = self.config
        state.settling = None
        if settle <= 0:
            return True
        if state.seen != fingerprint:
            state.seen, state.seen_since = fingerprint, time.monotonic()
        left = settle - (time.monotonic() - state.seen_since)
        newest = files.newest_mtime
        if newest is not None:
            left = min(left, settle - (time.time() - newest))
        if left <= 0:
            return True
        state.settling = timedelta(seconds=left)
        return False

    def config_settling(self) -> timedelta | None:
        """How long until the config bytes last seen have settled and can be applied, when the
        last reload found them too fresh; None otherwise."""
        return self.config.settling

    def _config_good(self, moment: datetime) -> None:
        state = self.config
        state.error, state.failed, state.failed_at, state.failed_bundle = None, None, None, None
        self.metrics.record_config(True, moment)

    def _config_failed(self, fingerprint: str, exc: ConfigError, bundle: ConfigBundle | None, at: datetime) -> None:
        state = self.config
        if state.error is None or str(exc) != str(state.error):
            for problem in exc.problems:
                log.error("config not applied: %s", problem)
        state.error, state.failed, state.failed_bundle = exc, fingerprint, bundle
        state.failed_at = state.failed_at or at
        self.metrics.record_config(False, None)

    def scan(self, now: datetime | None = None) -> list[str]:
        with self.metrics.time_scan():
            created = scan_due(
                self.engine, now or utcnow(), notify_past=self.settings.notify_past, base_url=self.settings.base_url
            )
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

    def clock_stepped_back(self, now: datetime | None = None) -> Rebased:
        """The wall clock was stepped back: rebase the stored due times written before the step."""
        return rebase(self.engine, now or utcnow())

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
