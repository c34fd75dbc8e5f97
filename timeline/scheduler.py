"""The scheduler: APScheduler 3.x runs the service's jobs (and only this module imports it).

Jobs are the plain methods of `timeline.service.Service`; tests call those directly with a frozen
clock. Every job has coalesce=True (a backlog of missed runs is one run), max_instances=1 (a slow run
is never doubled) and an explicit misfire_grace_time. A file watcher wakes the config job as soon as
a config file is saved; on PostgreSQL a listener (`timeline.wakeup`) wakes the delivery job as soon
as notices are created. The periodic runs are the fallback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.notices import CHANNEL
from alerts.sqltypes import utcnow
from timeline.service import CONFIG_JOB, DELIVER_JOB, Service
from timeline.wakeup import conninfo, listen

log = logging.getLogger(__name__)


def _guarded(name: str, job: Callable[[], Any]) -> Callable[[], None]:
    """A job that logs its failure and lets the next run try again, instead of dying."""

    def run() -> None:
        try:
            job()
        except Exception:
            log.exception("job %s failed; it runs again at its next time", name)

    run.__name__ = name
    return run


class Scheduler:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self._woken = threading.Event()
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        for name, job, every in service.jobs():
            if name == DELIVER_JOB:
                job = self._again_if_woken(job)
            elif name == CONFIG_JOB:
                job = self._again_when_settled(job)
            self._add(name, job, every)

    def _again_when_settled(self, job: Callable[[], Any]) -> Callable[[], None]:
        """`job`, run again as soon as the edit it found has settled (the files were still fresh)."""

        def run() -> None:
            job()
            left = self.service.config_settling()
            if left is not None and not self._stop.is_set():
                self.wake_config(left)

        return run

    def _again_if_woken(self, job: Callable[[], Any]) -> Callable[[], None]:
        """`job`, run again at once when woken while it ran: APScheduler drops a wake-up that comes
        while the job runs (max_instances=1), and the pass may have looked for notices already."""

        def run() -> None:
            while True:
                self._woken.clear()
                job()
                if not self._woken.is_set() or self._stop.is_set():
                    return

        return run

    def _add(self, name: str, job: Callable[[], Any], every: timedelta) -> None:
        seconds = max(every.total_seconds(), 0.1)
        self._scheduler.add_job(
            _guarded(name, job),
            "interval",
            seconds=seconds,
            id=name,
            next_run_time=utcnow(),
            misfire_grace_time=max(int(seconds), 1),
        )

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def start(self) -> None:
        self._scheduler.start()
        self._watcher = threading.Thread(target=self._watch, name="config-watch", daemon=True)
        self._watcher.start()
        engine = self.service.engine
        if engine.dialect.name == "postgresql":
            args = (conninfo(engine), CHANNEL, self.wake_deliveries, self._stop)
            self._listener = threading.Thread(target=listen, args=args, name="notice-listener", daemon=True)
            self._listener.start()
        log.info("scheduler started", extra={"jobs": [j.id for j in self._scheduler.get_jobs()]})

    def wake_config(self, after: timedelta = timedelta(0)) -> None:
        """Run the config job `after` from now (a file changed: once it has settled)."""
        self._scheduler.modify_job(CONFIG_JOB, next_run_time=utcnow() + after)

    def wake_deliveries(self) -> None:
        """Run the delivery job now (notices were created); if it is running, right after."""
        if not self._stop.is_set():
            self._woken.set()
            self._scheduler.modify_job(DELIVER_JOB, next_run_time=utcnow())

    def _watch(self) -> None:
        from watchfiles import watch

        folder = self.service.settings.config_dir
        if not folder.is_dir():
            log.warning("config folder %s does not exist; file watching is off", folder)
            return
        names = {p.name for p in self.service.config_files()}
        settle = self.service.settings.config_settle
        # Not recursive: the files sit at the top of the folder, and var/ (the database) below it.
        for changes in watch(folder, stop_event=self._stop, debounce=300, raise_interrupt=False, recursive=False):
            if any(path.rsplit("/", 1)[-1] in names for _, path in changes):
                self.wake_config(settle)  # every change pushes the run back: applied once quiet

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop taking new runs and wait for the jobs in hand to finish."""
        self._stop.set()
        self.service.stopping.set()
        finished = threading.Event()

        def stop() -> None:
            self._scheduler.shutdown(wait=True)
            finished.set()

        threading.Thread(target=stop, name="scheduler-stop", daemon=True).start()
        if not finished.wait(timeout):
            log.warning("jobs still running after %.0f s; exiting anyway (their claims expire)", timeout)
        if self._listener is not None:
            self._listener.join(2)
        log.info("scheduler stopped")
