"""The real service under libfaketime: its wall clock stepped back an hour, then forward a year, while
it runs. New work keeps flowing after each step (a config edit is applied, a new feed is polled,
/readyz stays ready) and memory stays flat.

The monotonic clock is left alone (FAKETIME_DONT_FAKE_MONOTONIC=1), as a real step of the system
clock (NTP, `date -s`, a resumed VM) leaves CLOCK_MONOTONIC alone.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.feeds.builders import Item, rss
from tests.feeds.server import LocalServer, local_server, static

TIMELINE = Path(sys.executable).parent / "timeline"
LIBFAKETIME = ("/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1", "/usr/lib/faketime/libfaketimeMT.so.1")


def _libfaketime() -> str:
    for path in LIBFAKETIME:
        if Path(path).exists():
            return path
    if IN_CI:
        pytest.fail("CI=true requires libfaketime (.ci/run installs faketime)")
    pytest.skip("libfaketime is not installed (apt-get install faketime)")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.1)


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _readyz(port: int) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


def _milestone(db: Path, mid: str) -> tuple[str, datetime] | None:
    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("select title, updated_at from milestones where id = ?", (mid,)).fetchone()
    if row is None:
        return None
    return row[0], datetime.fromisoformat(str(row[1])).replace(tzinfo=UTC)


class Service:
    def __init__(self, folder: Path, server: LocalServer, clock_file: Path) -> None:
        self.folder, self.server, self.clock_file = folder, server, clock_file
        self.db = folder / "t.db"
        self.milestones = folder / "milestones.yaml"
        self.feeds: list[str] = []

    def add_feed(self, name: str) -> str:
        path = f"/{name}.xml"
        self.server.route(path, static(rss(Item(f"Anthropic {name}", guid=name))))
        self.feeds.append(f"  - id: {name}\n    url: {self.server.url(path)}\n    interval: 1m\n")
        (self.folder / "feeds.yaml").write_text("feeds:\n" + "".join(self.feeds))
        return path

    def retitle(self, title: str) -> None:
        text = self.milestones.read_text()
        old = next(line for line in text.splitlines() if line.strip().startswith("title: Google"))
        self.milestones.write_text(text.replace(old, f"    title: {title}"))

    def step(self, offset: str) -> None:
        self.clock_file.write_text(offset + "\n")


@contextmanager
def running_service(tmp_path: Path, milestones_config: Path) -> Iterator[tuple[Service, subprocess.Popen[bytes], int]]:
    preload = _libfaketime()
    folder = tmp_path / "cfg"
    shutil.copytree(milestones_config, folder)
    clock_file = tmp_path / "faketime.rc"
    clock_file.write_text("+0\n")
    port = _free_port()
    with local_server() as server:
        service = Service(folder, server, clock_file)
        service.add_feed("first")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TIMELINE_", "FAKETIME"))} | {
            "LD_PRELOAD": preload,
            "FAKETIME_TIMESTAMP_FILE": str(clock_file),
            "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "TZ": "UTC",
            "TIMELINE_CONFIG_DIR": str(folder),
            "TIMELINE_DATABASE_URL": f"sqlite:///{service.db}",
            "TIMELINE_FEED_ALLOW_PRIVATE": "true",
            "TIMELINE_PORT": str(port),
            "TIMELINE_RELOAD_INTERVAL": "2s",
            "TIMELINE_SCAN_INTERVAL": "1s",
            "TIMELINE_FEED_TICK": "1s",
            "TIMELINE_DELIVERY_TICK": "1s",
            "TIMELINE_LOG_LEVEL": "INFO",
        }
        log = (tmp_path / "serve.log").open("wb")
        proc = subprocess.Popen([str(TIMELINE), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield service, proc, port
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def test_clock_steps_back_and_forward_while_the_service_runs(tmp_path: Path, milestones_config: Path) -> None:
    with running_service(tmp_path, milestones_config) as (service, proc, port):
        wait_for(lambda: _readyz(port)[0] == 200, "ready at start", 60)
        wait_for(lambda: len(service.server.hits_of("/first.xml")) >= 1, "first feed polled")
        wait_for(lambda: _milestone(service.db, "google-iowa") is not None, "config applied")
        time.sleep(2)  # the start-up's allocations settle
        baseline = _rss_kib(proc.pid)

        for n, (offset, shift) in enumerate((("-1h", timedelta(hours=-1)), ("+365d", timedelta(days=365)))):
            service.step(offset)
            stepped_at = datetime.now(UTC)
            title = f"Google in Iowa, after step {n}"
            service.retitle(title)
            path = service.add_feed(f"after-step-{n}")

            def applied(title: str = title) -> bool:
                found = _milestone(service.db, "google-iowa")
                return found is not None and found[0] == title

            wait_for(applied, f"the config edit after the {offset} step applied")
            _, updated_at = _milestone(service.db, "google-iowa")  # type: ignore[misc]
            # The edit was stamped with the service's (stepped) wall clock.
            assert abs(updated_at - (stepped_at + shift)) < timedelta(minutes=2)
            wait_for(lambda path=path: len(service.server.hits_of(path)) >= 1, f"new feed polled after {offset}")
            status, body = _readyz(port)
            assert status == 200, body
            assert proc.poll() is None

        time.sleep(3)  # a few more ticks of every job after the year's step
        assert _readyz(port)[0] == 200
        grown_mib = (_rss_kib(proc.pid) - baseline) / 1024
        assert grown_mib < 40, f"memory grew by {grown_mib:.0f} MiB after the clock steps"
    log = (tmp_path / "serve.log").read_text()
    assert "maximum number of running instances" not in log
    assert "Traceback" not in log, log[-3000:]
