"""The scheduler: runs the service's interval jobs, each on a thread of its own, timed by the
monotonic clock.

Jobs are the plain methods of `timeline.service.Service` (tests call those directly with a frozen
clock); each reads the wall clock when it runs and decides by it. When a job runs is decided by
`timeline.jobclock` on `time.monotonic()`, which a wall-clock step (NTP, a VM resumed, an operator's
`date -s`) does not move: stepped back an hour, jobs keep their pace; stepped forward a year, the
next run of each job is one run that catches up (it sees the new wall time), with no enumeration of
the runs in between. A job never runs twice at once (one thread each), missed runs are one run
(the next one), and a run that overruns its interval is logged once per episode, not at each tick.

A file watcher wakes the config job as soon as a config file is saved; on PostgreSQL a listener
(`timeline.wakeup`) wakes the delivery job as soon as notices are created; a wake-up that comes
while the job runs makes it run again right after. The periodic runs are the fallback.

`health()` names the jobs that have not run within a few of their intervals (or whose run has
lasted far too long): /readyz answers 503 with them, and the log says so once per stall.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from timeline.jobclock import ClockReading, JobTimes, Stall, seconds, wall_step
from timeline.service import CONFIG_JOB, DELIVER_JOB, Job, Service

log = logging.getLogger(__name__)

MONITOR_EVERY = 5.0
"""Seconds between two looks for stalled jobs (to log a stall once, even while no one asks)."""


class _Job:
    """One job: its callable, its times (guarded by the scheduler's lock) and its wake-up event."""

    def __init__(self, name: str, run: Callable[[], Any], interval: float, now: float) -> None:
        self.name = name
        self.run = run
        self.times = JobTimes(name, interval, created=now)
        self.woken = threading.Event()
        self.thread: threading.Thread | None = None


class Scheduler:
    def __init__(
        self,
        service: Service,
        *,
        jobs: Sequence[Job] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """`jobs` are the service's (`Service.jobs()`) unless given; `clock` is the monotonic clock,
        `wall` the wall clock (compared with it to notice steps)."""
        self.service = service
        self._clock = clock
        self._wall = wall
        self._reading = ClockReading(wall(), clock())
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._started = False
        self._listener: threading.Thread | None = None
        now = clock()
        self._jobs = {
            name: _Job(name, job, max(every.total_seconds(), 0.1), now)
            for name, job, every in (service.jobs() if jobs is None else jobs)
        }
        self._stalled: set[str] = set()

    @property
    def running(self) -> bool:
        """Started, not stopped, and every job's thread alive."""
        return (
            self._started
            and not self._stop.is_set()
            and all(j.thread is not None and j.thread.is_alive() for j in self._jobs.values())
        )

    def health(self) -> list[Stall]:
        """The jobs that have not run within a few of their intervals, or whose run has lasted far
        too long (see `timeline.jobclock`); empty while every job keeps up."""
        now = self._clock()
        with self._lock:
            times = [j.times for j in self._jobs.values()]
        return [stall for t in times if (stall := t.stall(now)) is not None]

    def start(self) -> None:
        with self._lock:
            now = self._clock()
            for job in self._jobs.values():
                job.times = JobTimes(job.name, job.times.interval, created=now)
        for job in self._jobs.values():
            job.thread = self._thread(f"job-{job.name}", self._loop, job)
        self._thread("config-watch", self._watch)
        self._thread("scheduler-monitor", self._monitor)
        engine = self.service.engine
        if engine.dialect.name == "postgresql":
            from alerts.notices import CHANNEL
            from timeline.wakeup import conninfo, listen

            args = (conninfo(engine), CHANNEL, self.wake_deliveries, self._stop)
            self._listener = threading.Thread(target=listen, args=args, name="notice-listener", daemon=True)
            self._listener.start()
        self._started = True
        log.info("scheduler started", extra={"jobs": list(self._jobs)})

    def _thread(self, name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        return thread

    def wake(self, name: str) -> None:
        """Run job `name` now; if it is running, right after."""
        job = self._jobs.get(name)
        if job is not None and not self._stop.is_set():
            job.woken.set()

    def wake_config(self) -> None:
        """Run the config job now (a file changed)."""
        self.wake(CONFIG_JOB)

    def wake_deliveries(self) -> None:
        """Run the delivery job now (notices were created)."""
        self.wake(DELIVER_JOB)

    def _loop(self, job: _Job) -> None:
        while not self._stop.is_set():
            with self._lock:
                wait = job.times.wait(self._clock())
            if wait > 0:
                job.woken.wait(wait)
            if self._stop.is_set():
                return
            job.woken.clear()
            self._run(job)

    def _run(self, job: _Job) -> None:
        with self._lock:
            job.times = job.times.begin(self._clock())
        try:
            job.run()
        except Exception:
            log.exception("job %s failed; it runs again at its next time", job.name)
        finally:
            with self._lock:
                job.times, overrun = job.times.end(self._clock())
            if overrun is not None:
                (log.info if overrun.ended else log.warning)(
                    overrun.describe(), extra={"job": job.name, "seconds": round(overrun.took, 1)}
                )

    def _monitor(self) -> None:
        """Log each stall once when it begins and once when it ends; notice clock steps."""
        while not self._stop.wait(MONITOR_EVERY):
            self.check_stalls()
            self.check_clock()

    def check_clock(self) -> float:
        """Compare the wall clock with the monotonic one since the last look. After a step back,
        the feeds' and retries' stored due times are rebased (`timeline.clocksteps`), so that they
        keep their delays instead of waiting for the old wall time to come again; after a step
        forward they are simply due, and the next runs catch up once. Returns the step (seconds)."""
        reading = ClockReading(self._wall(), self._clock())
        step, self._reading = wall_step(self._reading, reading), reading
        if step < 0:
            log.warning("the wall clock was stepped back by %s; rescheduling feeds and retries", seconds(-step))
            try:
                rebased = self.service.clock_stepped_back()
            except Exception:
                log.exception("rescheduling after the clock step failed; stored times stand")
            else:
                log.info(
                    "after the clock step: %d feeds and %d deliveries rescheduled",
                    rebased.feeds,
                    rebased.deliveries,
                )
        elif step > 0:
            log.warning("the wall clock was stepped forward by %s; due work runs at the next runs", seconds(step))
        return step

    def check_stalls(self) -> list[Stall]:
        """Log the stalls that began or ended since the last look; return the current ones."""
        stalls = self.health()
        names = {s.job for s in stalls}
        for stall in stalls:
            if stall.job not in self._stalled:
                log.error("scheduler stalled: %s", stall.describe(), extra={"job": stall.job})
        for name in self._stalled - names:
            log.info("job %s runs again", name, extra={"job": name})
        self._stalled = names
        return stalls

    def _watch(self) -> None:
        from watchfiles import watch

        folder = self.service.settings.config_dir
        if not folder.is_dir():
            log.warning("config folder %s does not exist; file watching is off", folder)
            return
        names = {p.name for p in self.service.config_files()}
        # Not recursive: the files sit at the top of the folder, the database in var/ below it.
        for changes in watch(folder, stop_event=self._stop, debounce=300, raise_interrupt=False, recursive=False):
            if any(path.rsplit("/", 1)[-1] in names for _, path in changes):
                self.wake_config()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop taking new runs and wait (at most `timeout` seconds) for the runs in hand to finish."""
        self._stop.set()
        self.service.stopping.set()
        for job in self._jobs.values():
            job.woken.set()
        deadline = time.monotonic() + timeout
        runners = [j.thread for j in self._jobs.values() if j.thread is not None]
        for thread in runners:
            thread.join(max(deadline - time.monotonic(), 0.0))
        if any(t.is_alive() for t in runners):
            log.warning("jobs still running after %.0f s; exiting anyway (their claims expire)", timeout)
        if self._listener is not None:
            self._listener.join(2)
        log.info("scheduler stopped")
