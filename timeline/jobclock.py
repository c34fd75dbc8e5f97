"""When a scheduler job runs next, whether it overran, whether it stalled: pure decisions on the
monotonic clock.

Every instant here is a reading of `time.monotonic()` (seconds), never the wall clock: a job runs
`interval` seconds after its previous run started, whatever the wall clock does meanwhile. A clock
step back does not hold jobs back, a step forward does not make them run once per missed interval;
what the jobs decide (what is due, which feeds to poll) they decide by the wall clock they read
when they run, so the first run after a step catches up in one go.

No function here reads a clock: the scheduler passes `now` in, and tests pass numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

STALL_INTERVALS = 3
"""A job is stalled when it is this many intervals late (and at least `STALL_LATE_FLOOR`)..."""
STALL_LATE_FLOOR = 30.0
STALL_RUN_FLOOR = 600.0
"""...or when one run has lasted this many intervals, and at least `STALL_RUN_FLOOR` seconds (a
feed poll or a delivery pass behind slow servers legitimately runs for minutes)."""


@dataclass(frozen=True)
class JobTimes:
    """What the scheduler knows of one job, in monotonic seconds."""

    name: str
    interval: float
    created: float
    started: float | None = None
    """The start of the run in progress; None between runs."""
    last_started: float | None = None
    last_finished: float | None = None
    overrun_since: float | None = None
    """The start of the first run of the current overrun episode; None when the job is on time."""
    overrun_runs: int = 0

    @property
    def due(self) -> float:
        """When the next run is due: at once for a job that never ran, else an interval after the
        previous run started (a run that overran is followed at once, and only once)."""
        return self.created if self.last_started is None else self.last_started + self.interval

    def wait(self, now: float) -> float:
        """Seconds to wait before the next run (0 when due)."""
        return max(self.due - now, 0.0)

    def begin(self, now: float) -> JobTimes:
        return replace(self, started=now, last_started=now)

    def end(self, now: float) -> tuple[JobTimes, Overrun | None]:
        """The times after the run in progress ended at `now`, and what to log about an overrun:
        once when an episode of runs longer than the interval begins, once when it ends."""
        started = self.started if self.started is not None else now
        took = now - started
        done = replace(self, started=None, last_finished=now)
        if took > self.interval:
            if self.overrun_since is None:
                event = Overrun(self.name, self.interval, took, runs=1, ended=False)
                return replace(done, overrun_since=started, overrun_runs=1), event
            return replace(done, overrun_runs=self.overrun_runs + 1), None
        if self.overrun_since is not None:
            event = Overrun(self.name, self.interval, started - self.overrun_since, self.overrun_runs, ended=True)
            return replace(done, overrun_since=None, overrun_runs=0), event
        return done, None

    def stall(self, now: float) -> Stall | None:
        """Why this job counts as stalled at `now`, or None while it keeps up."""
        if self.started is not None:
            running = now - self.started
            if running > max(STALL_INTERVALS * self.interval, STALL_RUN_FLOOR):
                return Stall(self.name, self.interval, running, running=True)
            return None
        late = now - max(self.due, self.last_finished or self.created)
        if late > max(STALL_INTERVALS * self.interval, STALL_LATE_FLOOR):
            return Stall(self.name, self.interval, late, running=False)
        return None


def seconds(value: float) -> str:
    """A duration as a person reads it: `2 s`, `45 s`, `3 min`, `2 h 5 min`, `3 days`."""
    whole = int(value)
    if value < 10:
        return f"{value:.1f} s".replace(".0 s", " s")
    if whole < 120:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 2 * 86400:
        hours, minutes = divmod(whole // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{whole // 86400} days"


@dataclass(frozen=True)
class Overrun:
    """An overrun episode beginning (`ended=False`: `took` is its first run) or ending (`took` is
    how long the job ran behind its interval, over `runs` runs)."""

    job: str
    interval: float
    took: float
    runs: int
    ended: bool

    def describe(self) -> str:
        every = seconds(self.interval)
        if not self.ended:
            return (
                f"job {self.job} took {seconds(self.took)}, longer than its {every} interval: the runs it "
                "missed are skipped and it runs again as soon as it ends (logged again when it is back on time)"
            )
        runs = "1 run" if self.runs == 1 else f"{self.runs} runs"
        return (
            f"job {self.job} is back on time after overrunning its {every} interval for {seconds(self.took)} ({runs})"
        )


@dataclass(frozen=True)
class Stall:
    job: str
    interval: float
    for_seconds: float
    running: bool

    def describe(self) -> str:
        every = seconds(self.interval)
        if self.running:
            return f"job {self.job} has been running for {seconds(self.for_seconds)} (it runs every {every})"
        return f"job {self.job} is {seconds(self.for_seconds)} late (it runs every {every})"


STEP_TOLERANCE = 60.0
"""Seconds by which the wall clock may drift from the monotonic one between two looks before it
counts as a step (NTP slews by far less; a suspended VM moves both clocks alike)."""


@dataclass(frozen=True)
class ClockReading:
    """The wall clock (`time.time()`) and the monotonic clock read together."""

    wall: float
    monotonic: float


def wall_step(before: ClockReading, after: ClockReading) -> float:
    """How far the wall clock was stepped between two readings, in seconds: negative when it was
    stepped back, positive forward, 0 while it keeps pace with the monotonic clock (within
    `STEP_TOLERANCE`)."""
    step = (after.wall - before.wall) - (after.monotonic - before.monotonic)
    return step if abs(step) > STEP_TOLERANCE else 0.0
