"""When jobs run, overrun and stall: the pure decisions of `timeline.jobclock`, on numbers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from timeline.jobclock import JobTimes, seconds


def test_a_new_job_runs_at_once_then_an_interval_after_each_start() -> None:
    job = JobTimes("deliver", 2.0, created=100.0)
    assert job.wait(100.0) == 0
    job = job.begin(100.0)
    job, overrun = job.end(100.5)
    assert overrun is None
    assert job.wait(100.5) == 1.5
    assert job.wait(103.0) == 0


def test_a_run_that_overruns_is_followed_once_and_at_once() -> None:
    """However long a run took (a year of missed ticks), the next run is one run, due now."""
    job = JobTimes("scan", 60.0, created=0.0).begin(0.0)
    job, _ = job.end(365 * 86400.0)
    assert job.wait(365 * 86400.0) == 0
    job, _ = job.begin(365 * 86400.0).end(365 * 86400.0 + 1)
    assert job.wait(365 * 86400.0 + 1) == 59


def test_an_overrun_episode_is_told_once_when_it_begins_and_once_when_it_ends() -> None:
    job = JobTimes("deliver", 2.0, created=0.0)
    events = []
    now = 0.0
    for took in (0.5, 17.0, 15.0, 16.0, 0.2, 0.3, 5.0, 1.0):
        job = job.begin(now)
        now += took
        job, event = job.end(now)
        events.append(event)
    told = [e.describe() for e in events if e is not None]
    assert told == [
        "job deliver took 17 s, longer than its 2 s interval: the runs it missed are skipped and it runs "
        "again as soon as it ends (logged again when it is back on time)",
        "job deliver is back on time after overrunning its 2 s interval for 48 s (3 runs)",
        "job deliver took 5 s, longer than its 2 s interval: the runs it missed are skipped and it runs "
        "again as soon as it ends (logged again when it is back on time)",
        "job deliver is back on time after overrunning its 2 s interval for 5 s (1 run)",
    ]


def test_a_job_is_stalled_when_it_is_a_few_intervals_late_or_runs_far_too_long() -> None:
    job = JobTimes("reload-config", 30.0, created=0.0)
    assert job.stall(90.0) is None
    late = job.stall(91.0)
    assert late is not None and late.describe() == "job reload-config is 91 s late (it runs every 30 s)"
    # A short interval still allows a floor of lateness (a busy machine is not a stall).
    assert JobTimes("deliver", 2.0, created=0.0).stall(29.0) is None
    running = JobTimes("feed-poll", 15.0, created=0.0).begin(0.0)
    assert running.stall(599.0) is None
    stuck = running.stall(3600.0)
    assert stuck is not None and stuck.describe() == "job feed-poll has been running for 1 h (it runs every 15 s)"
    done, _ = running.end(700.0)
    assert done.stall(701.0) is None


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), max_size=40), st.floats(0.1, 3600))
def test_waits_stay_within_one_interval_and_episodes_alternate(durations: list[float], interval: float) -> None:
    job = JobTimes("j", interval, created=0.0)
    now, open_episode = 0.0, False
    for took in durations:
        assert 0 <= job.wait(now) <= interval + 1e-9 * max(now, 1.0)  # float rounding of now + interval
        now += job.wait(now)
        job, start = job.begin(now), now
        now += took
        job, event = job.end(now)
        if event is not None:
            assert event.ended == open_episode
            open_episode = not event.ended
        assert open_episode == (now - start > interval)


def test_durations_read_as_a_person_writes_them() -> None:
    assert [seconds(v) for v in (0.25, 2, 9.96, 45, 150, 3600, 7500, 90000, 86400 * 365)] == [
        "0.2 s",
        "2 s",
        "10 s",
        "45 s",
        "2 min",
        "1 h",
        "2 h 5 min",
        "25 h",
        "365 days",
    ]
