"""Process wiring for `serve`, `web` and `worker`: signals, the scheduler and uvicorn."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from timeline.errors import TimelineError
from timeline.scheduler import Scheduler
from timeline.service import Service
from timeline.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def sqlite_single_worker(settings: Settings) -> Iterator[None]:
    """On SQLite, one scheduler process per database file: a second one refuses to start.

    SQLite itself cannot be corrupted by two writers, but it serialises them and they would only
    contend; scaling out is what PostgreSQL is for."""
    url = settings.database_url
    if not url.startswith("sqlite"):
        yield
        return
    lock_path = Path(url.split(":///", 1)[-1] + ".worker.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise TimelineError(
            f"another worker already runs on {url} (lock {lock_path}); on SQLite run one worker "
            "(or `timeline serve`), or move TIMELINE_DATABASE_URL to PostgreSQL to run several"
        ) from None
    try:
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _start(settings: Settings) -> tuple[Service, Scheduler]:
    service = Service(settings)
    service.upgrade()
    service.reload_config(force=True)
    scheduler = Scheduler(service)
    scheduler.start()
    return service, scheduler


def run_worker(settings: Settings) -> None:
    """Run the scheduler until SIGTERM or SIGINT, then finish the jobs in hand (10 s at most)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with sqlite_single_worker(settings):
        service, scheduler = _start(settings)
        log.info("worker running", extra={"pid": os.getpid()})
        stop.wait()
        log.info("worker stopping")
        scheduler.shutdown(timeout=10)
        service.close()


def _uvicorn(settings: Settings, service: Service, scheduler: Scheduler | None) -> None:
    import uvicorn

    from timeline.web.app import create_app

    app = create_app(settings, service=service, scheduler=scheduler)
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None, access_log=False)


def run_serve(settings: Settings) -> None:
    """API and scheduler in one process."""
    with sqlite_single_worker(settings):
        service, scheduler = _start(settings)
        try:
            _uvicorn(settings, service, scheduler)
        finally:
            scheduler.shutdown(timeout=10)
            service.close()


def run_web(settings: Settings) -> None:
    """The API alone; a `worker` process does the scheduled work."""
    service = Service(settings)
    service.upgrade()
    try:
        _uvicorn(settings, service, None)
    finally:
        service.close()
