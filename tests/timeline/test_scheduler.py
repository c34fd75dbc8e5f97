"""The real scheduler and the real worker process: file edits picked up, clean stops, one SQLite worker."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.notices import NewNotice, publish
from alerts.sqltypes import utcnow
from alerts.subscriptions import create_subscription
from tests.alerts.receiver import Receiver
from tests.conftest import fresh_database, require_pg
from timeline.db import make_engine, upgrade
from timeline.scheduler import Scheduler
from timeline.service import Service
from timeline.settings import Settings, load_settings
from timeline.store import MILESTONES
from timeline.wakeup import listen

TIMELINE = Path(sys.executable).parent / "timeline"


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait until `condition` holds (an event we cannot be told about), failing after `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.05)


@pytest.fixture
def config_dir(milestones_config: Path) -> Path:
    return milestones_config


def quiet_settings(config_dir: Path, database_url: str, **overrides: Any) -> Settings:
    """Settings whose jobs all run at start and then not for an hour, but for `overrides`."""
    ticks = {"reload_interval": "1h", "scan_interval": "1h", "feed_tick": "1h", "delivery_tick": "1h"}
    return load_settings(config_dir=config_dir, database_url=database_url, **(ticks | overrides))


@pytest.fixture
def scheduler(sqlite_engine: Engine, config_dir: Path) -> Iterator[Scheduler]:
    settings = quiet_settings(config_dir, str(sqlite_engine.url), scan_interval="1s")
    running = Scheduler(Service(settings, engine=sqlite_engine))
    running.start()
    yield running
    running.shutdown()


def _title(engine: Engine, mid: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(MILESTONES.c.title).where(MILESTONES.c.id == mid)).scalar_one_or_none()


def test_an_edit_is_applied_within_seconds_and_a_broken_one_keeps_the_last_good(
    scheduler: Scheduler, sqlite_engine: Engine, config_dir: Path
) -> None:
    wait_for(lambda: _title(sqlite_engine, "google-iowa") is not None)
    path = config_dir / "milestones.yaml"
    text = path.read_text()
    path.write_text(text.replace("Google invests 1.5 billion dollars in Iowa", "Google's Iowa expansion"))
    wait_for(lambda: _title(sqlite_engine, "google-iowa") == "Google's Iowa expansion")

    path.write_text(text.replace("when: 2026-Q4", "when: 2026-Q5"))
    wait_for(lambda: scheduler.service.config.error is not None)
    problem = scheduler.service.config.error.problems[0]  # type: ignore[union-attr]
    assert "milestones[6].when: '2026-Q5' is not a date" in str(problem)
    assert _title(sqlite_engine, "google-iowa") == "Google's Iowa expansion"
    assert scheduler.running


def _start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(TIMELINE), "worker"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )


def _wait_line(proc: subprocess.Popen[str], needle: str) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if needle in line:
            return
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"{needle!r} never logged")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_worker_stops_cleanly_on_signal(tmp_path: Path, config_dir: Path, sig: signal.Signals) -> None:
    env = os.environ | {
        "TIMELINE_CONFIG_DIR": str(config_dir),
        "TIMELINE_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "TIMELINE_LOG_LEVEL": "INFO",
    }
    worker = _start_worker(env)
    try:
        _wait_line(worker, "worker running")
        second = subprocess.run([str(TIMELINE), "worker"], env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 1
        assert "another worker already runs on sqlite" in second.stderr
        started = time.monotonic()
        worker.send_signal(sig)
        assert worker.wait(timeout=15) == 0
        assert time.monotonic() - started < 10
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        if worker.stderr:
            worker.stderr.close()


@pytest.mark.postgres
def test_on_postgresql_a_new_notice_wakes_the_delivery_job(config_dir: Path) -> None:
    """With a delivery tick of an hour, a notice published by another process (here: another
    connection) is delivered within seconds: LISTEN/NOTIFY wakes the job."""
    require_pg()
    with fresh_database("timeline_wake") as url, Receiver() as receiver:
        engine = make_engine(url)
        upgrade(engine)

        def notice(key: str) -> None:
            with engine.begin() as conn:
                publish(conn, [NewNotice("test.ping", key, utcnow(), {"n": 1})], utcnow())

        with engine.begin() as conn:
            create_subscription(
                conn, AlertsConfig(allow_private=True), utcnow(), url=receiver.url("/hook"), events=["test.*"]
            )
        notice("test.ping:before")  # sent by the delivery job's first run, at start
        settings = quiet_settings(config_dir, url, webhook_allow_private=True)
        scheduler = Scheduler(Service(settings, engine=engine))
        scheduler.start()
        try:
            wait_for(lambda: len(receiver.received) == 1, 10)
            wait_for(lambda: any(t.name == "notice-listener" for t in threading.enumerate()), 5)
            notice("test.ping:after")  # the next tick is an hour away
            wait_for(lambda: len(receiver.received) == 2, 10)
        finally:
            scheduler.shutdown()
            engine.dispose()
        assert not any(t.name == "notice-listener" for t in threading.enumerate())


def test_the_notice_listener_keeps_trying_while_the_database_is_away(caplog: pytest.LogCaptureFixture) -> None:
    """A listening connection that cannot be opened is retried (the tick delivers meanwhile); a stop
    ends the listener at once."""
    stop, woken = threading.Event(), []
    url = "postgresql://nobody@127.0.0.1:1/none"
    listener = threading.Thread(target=listen, args=(url, "timeline_notices", lambda: woken.append(1), stop))
    listener.start()
    wait_for(lambda: any("listening for new notices failed" in r.getMessage() for r in caplog.records), 10)
    assert listener.is_alive()
    stop.set()
    listener.join(5)
    assert not listener.is_alive() and woken == []


def test_a_worker_on_sqlite_does_not_load_the_postgresql_driver() -> None:
    """psycopg is about 9 MB of a worker's 150 MB budget: the notice listener imports it when used."""
    code = "import sys, timeline.entry, timeline.runner, timeline.scheduler; print('psycopg' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


class FakeMonotonic:
    """A monotonic clock the test moves by hand (the jobs still wait on real events)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_overrunning_job_is_logged_once_per_episode(
    sqlite_engine: Engine, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Three runs of 5 s behind a 1 s interval, then runs on time: one warning with how long the first
    run took, one line when it is back on time, nothing at each missed tick or at start."""
    clock = FakeMonotonic()
    runs: list[float] = []

    def slow_then_quick() -> None:
        runs.append(clock.now)
        if len(runs) <= 3:
            clock.now += 5

    service = Service(quiet_settings(config_dir, str(sqlite_engine.url)), engine=sqlite_engine)
    scheduler = Scheduler(service, jobs=[("slow", slow_then_quick, timedelta(seconds=1))], clock=clock)
    caplog.set_level(logging.INFO, logger="timeline.scheduler")
    scheduler.start()
    try:
        wait_for(lambda: len(runs) >= 4)
        clock.now += 1
        scheduler.wake("slow")
        wait_for(lambda: len(runs) >= 5)
    finally:
        scheduler.shutdown()
    told = [r.getMessage() for r in caplog.records if "slow" in r.getMessage()]
    assert told == [
        "job slow took 5 s, longer than its 1 s interval: the runs it missed are skipped and it runs again as soon "
        "as it ends (logged again when it is back on time)",
        "job slow is back on time after overrunning its 1 s interval for 15 s (3 runs)",
    ]
    assert runs[:4] == [1000.0, 1005.0, 1010.0, 1015.0]  # each overrun followed once, at once


def test_readyz_names_a_stalled_job_and_recovers(sqlite_engine: Engine, config_dir: Path) -> None:
    """A job that has not run for a few of its intervals makes /readyz answer 503 naming it; once it
    runs again the scheduler is ready."""
    from fastapi.testclient import TestClient

    from timeline.web.app import create_app

    clock = FakeMonotonic()
    settings = quiet_settings(config_dir, str(sqlite_engine.url))
    service = Service(settings, engine=sqlite_engine)
    ran: list[float] = []
    scheduler = Scheduler(
        service, jobs=[("due-scan", lambda: ran.append(clock.now), timedelta(minutes=1))], clock=clock
    )
    scheduler.start()
    try:
        with TestClient(create_app(settings, service=service, scheduler=scheduler)) as client:
            wait_for(lambda: len(ran) == 1)
            assert client.get("/readyz").json()["checks"]["scheduler"] == "ok"
            clock.now += 4 * 60 + 1  # the job's thread waits on: it is 3 min late
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json()["checks"]["scheduler"] == "stalled: job due-scan is 3 min late (it runs every 60 s)"
            assert [s.job for s in scheduler.check_stalls()] == ["due-scan"]
            scheduler.wake("due-scan")
            wait_for(lambda: len(ran) == 2)
            assert client.get("/readyz").status_code == 200
            assert scheduler.check_stalls() == []
    finally:
        scheduler.shutdown()
    assert not scheduler.running
