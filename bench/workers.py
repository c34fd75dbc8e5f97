"""Worker processes: deliveries per second with 1, 2 and 4 `timeline worker` processes, one poll
cycle over 10,000 local feeds, and the memory of a worker holding 10,000 feeds and 100,000 milestones.

All local (127.0.0.1 only). Servers run in their own processes so that they do not share the GIL
with what is measured; on this 2-core machine they still share the cores, as does PostgreSQL.

- deliveries/s, N workers: real `timeline worker` processes (delivery tick 1 s) are started and
  idle; then N notices are published for one subscription (concurrency 50) in one transaction, and
  the clock runs until every delivery is recorded as delivered. Baseline: bench/delivery's bare
  aiohttp loop (50 in flight) posting the same bodies to the same receiver. ratio = ours / baseline.
  One more row compares PostgreSQL with 2 workers to 1 worker (target >= 1.6).
- 10,000 feeds: `poll_due` over 10,000 feeds of one local server (concurrency 50), once when all
  answer 304, once when 10 % have 5 new items (fetched, parsed, stored, matched); baseline: a bare
  aiohttp loop doing the same conditional GETs (bodies read, not parsed) at the same concurrency;
  each side the best of 3 cycles. ratio = our throughput / bare throughput (target >= 0.5).
- worker memory: a `timeline worker` on SQLite with 100,000 milestones (bulk-loaded through the
  database: parsing a 100,000-entry YAML file takes minutes) and 10,000 feeds in feeds.yaml, after
  its first full poll cycle; VmHWM (peak resident set) from /proc, next to an idle worker's.
  ratio = MB / 150 MB target (<= 1 meets it).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import Engine, create_engine, func, select, text

from alerts.config import AlertsConfig
from alerts.formats import encode
from alerts.notices import publish
from alerts.outbox import DELIVERIES
from alerts.subscriptions import create_subscription
from bench.delivery import _SERVER, IN_FLIGHT, _baseline, _notices
from bench.feeds import local_server, serve_forever
from bench.scan import _fill
from timeline.config.feeds import FeedSpec
from timeline.db import make_engine, upgrade
from timeline.feeds.poll import poll_due
from timeline.feeds.store import FEEDS, sync_feeds
from timeline.settings import load_settings

Row = tuple[str, float, float, float]
TIMELINE = Path(sys.executable).parent / "timeline"
PG_ADMIN_URL = os.environ.get("TIMELINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CONCURRENCY = 50
ROUNDS = 3


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:g} s")
        time.sleep(0.05)


# --- worker processes ---------------------------------------------------------------------------


def _env(database_url: str, config_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    return env | {
        "TIMELINE_DATABASE_URL": database_url,
        "TIMELINE_CONFIG_DIR": str(config_dir),
        "TIMELINE_WEBHOOK_ALLOW_PRIVATE": "true",
        "TIMELINE_FEED_ALLOW_PRIVATE": "true",
        "TIMELINE_SCAN_INTERVAL": "1h",
        "TIMELINE_FEED_TICK": "1h",
        "TIMELINE_RELOAD_INTERVAL": "1h",
        "TIMELINE_DELIVERY_TICK": "1s",
        "TIMELINE_LOG_LEVEL": "INFO",
        **extra,
    }


@contextmanager
def _workers(count: int, env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` running `timeline worker` processes (started, migrated, config applied), stopped after."""
    procs = []
    try:
        for i in range(count):
            path = logs / f"worker-{uuid.uuid4().hex[:6]}-{i}.log"
            with path.open("wb") as log:
                proc = subprocess.Popen([str(TIMELINE), "worker"], env=env, stdout=log, stderr=log)
            proc.log = path  # type: ignore[attr-defined]
            procs.append(proc)
        _wait_running(procs)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_running(procs: list[subprocess.Popen[bytes]]) -> None:
    """Until each worker has logged that it runs (started, migrated, config applied)."""

    def running() -> bool:
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a worker exited with {proc.returncode}: {Path(proc.log).read_text()[-800:]}")  # type: ignore[attr-defined]
        return all('"message": "worker running"' in Path(p.log).read_text() for p in procs)  # type: ignore[attr-defined]

    _wait(running, 120, "workers started")


# --- deliveries with N workers --------------------------------------------------------------------


@contextmanager
def _pg_database() -> Iterator[str]:
    name = f"timeline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _delivered(engine: Engine) -> int:
    with engine.connect() as conn:
        where = DELIVERIES.c.status == "delivered"
        return int(conn.execute(select(func.count()).select_from(DELIVERIES).where(where)).scalar_one())


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` so far (processes gone in between count as 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def _postgres_pids(database: str) -> list[int]:
    """The PostgreSQL backends serving `database` (same machine)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if command.startswith("postgres:") and f" {database} " in command:
                pids.append(int(entry.name))
    return pids


CPU: dict[str, dict[str, float]] = {}  # CPU ms per delivery by run and process kind, for the report


def _deliver_rate(
    url: str, database_url: str, workers: int, count: int, folder: Path, rounds: int, receiver: int = 0
) -> float:
    """Best deliveries/s of `rounds` runs of `count` notices through `workers` worker processes."""
    engine = make_engine(database_url)
    upgrade(engine)
    config = AlertsConfig(allow_private=True)
    with engine.begin() as conn:
        create_subscription(conn, config, datetime.now(UTC), url=url, concurrency=IN_FLIGHT)
    best = 0.0
    database = database_url.rsplit("/", 1)[1]
    with _workers(workers, _env(database_url, folder), folder) as procs:
        for r in range(rounds):
            backends = _postgres_pids(database) if engine.dialect.name == "postgresql" else []
            cpu = [_cpu_seconds([p.pid for p in procs]), _cpu_seconds(backends), _cpu_seconds([receiver])]
            base = _delivered(engine)
            with engine.connect() as conn:
                before = conn.execute(select(func.coalesce(func.max(DELIVERIES.c.id), 0))).scalar_one()
            now = datetime.now(UTC)
            notices = [replace(n, key=f"{n.key}:{workers}:{r}") for n in _notices(count, now)]
            with engine.begin() as conn:
                publish(conn, notices, now)
            _wait(lambda base=base: _delivered(engine) >= base + count, 120, "all delivered")
            # From the fan-out (a worker found the notices, up to one tick later) to the last success.
            # This round's rows by id, not by time: a pass may stamp rows with an instant it read just
            # before the notices were published.
            d = DELIVERIES.c
            with engine.connect() as conn:
                first, last = conn.execute(
                    select(func.min(d.created_at), func.max(d.delivered_at)).where(d.id > before)
                ).one()
            cpu = [
                _cpu_seconds([p.pid for p in procs]) - cpu[0],
                _cpu_seconds(backends) - cpu[1],
                _cpu_seconds([receiver]) - cpu[2],
            ]
            rate = count / (last - first).total_seconds()
            if rate > best:
                best = rate
                kinds = ("workers", "postgres", "receiver")
                CPU[f"{engine.dialect.name} x{workers}"] = {
                    k: 1000 * v / count for k, v in zip(kinds, cpu, strict=True)
                }
    engine.dispose()
    return best


def _bench_deliveries(folder: Path, count: int = 3000, rounds: int = 2) -> list[Row]:
    (folder / "milestones.yaml").write_text("milestones: []\n")
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    rows: list[Row] = []
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/hook"
        bodies = [encode(n.payload()).encode() for n in _notices(count, datetime.now(UTC))]
        baseline = max(asyncio.run(_baseline(url, bodies)) for _ in range(2))
        sqlite_url = f"sqlite:///{folder / 'deliveries.db'}"
        rate = _deliver_rate(url, sqlite_url, 1, count, folder, rounds, server.pid)
        rows.append((f"deliveries/s, SQLite, 1 worker process, {count}", rate, baseline, rate / baseline))
        rates = {}
        for workers in (1, 2, 4):
            with _pg_database() as database_url:
                rates[workers] = _deliver_rate(url, database_url, workers, count, folder, rounds, server.pid)
            name = f"deliveries/s, PostgreSQL, {workers} worker process{'es' if workers > 1 else ''}"
            rows.append((name, rates[workers], baseline, rates[workers] / baseline))
        rows.append(("deliveries/s, PostgreSQL, 2 workers vs 1 worker", rates[2], rates[1], rates[2] / rates[1]))
        for run, per in CPU.items():
            # Where the CPU goes: on 2 cores, 1000 / (sum of these) bounds the rate, whatever the worker count.
            label = f"CPU ms per delivery, {run}: workers vs {'PostgreSQL' if 'postgres' in run else 'receiver'}"
            other = per["postgres"] if "postgres" in run else per["receiver"]
            rows.append((label, per["workers"], other, per["workers"] / other if other else 0.0))
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    return rows


# --- 10,000 feeds per poll cycle -----------------------------------------------------------------


def _small_feed(i: int, version: int) -> bytes:
    items = "".join(
        f"<item><title>Anthropic data centre update {i}.{version}.{k}</title>"
        f"<link>https://example.com/{i}/{version}/{k}</link><guid>urn:f:{i}:{version}:{k}</guid>"
        f"<description>Construction news {k}</description></item>"
        for k in range(5)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{i}</title><link>https://example.com/</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def _serve_feeds(port: Any, version: Any) -> None:
    """GET /f/<i>.xml: every tenth feed changes with `version` (ETag "v<version>"), the others keep
    ETag "v0"; a matching If-None-Match gets 304."""

    async def handle(request: web.Request) -> web.StreamResponse:
        i = int(request.match_info["i"])
        current = version.value if i % 10 == 0 else 0
        etag = f'"v{current}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=_small_feed(i, current), headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    serve_forever(port, "/f/{i}.xml", handle)


@contextmanager
def _feed_server() -> Iterator[tuple[str, Any]]:
    version = multiprocessing.get_context("fork").Value("i", 0)
    with local_server(_serve_feeds, version) as base:
        yield base, version


async def _bare_cycle(urls: list[str], etags: dict[str, str]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:

        async def get(url: str) -> None:
            async with gate, session.get(url, headers={"If-None-Match": etags[url]}) as response:
                await response.read()

        await asyncio.gather(*(get(url) for url in urls))


def _bench_feeds(folder: Path, feeds: int = 10_000) -> list[Row]:
    engine = make_engine(f"sqlite:///{folder / 'feeds.db'}")
    upgrade(engine)
    settings = load_settings(
        feed_allow_private=True,
        feed_concurrency=CONCURRENCY,
        feed_per_host=CONCURRENCY,
        database_url="sqlite:///" + str(folder / "unused.db"),
    )
    rows: list[Row] = []
    with _feed_server() as (base, version):
        urls = [f"{base}/f/{i}.xml" for i in range(feeds)]
        specs = [FeedSpec(id=f"f{i:05d}", url=url, name=f"F{i}") for i, url in enumerate(urls)]
        with engine.begin() as conn:
            sync_feeds(conn, specs, NOW)
        poll_due(engine, settings, NOW)  # first poll: bodies, ETags and backlogs stored (not measured)
        etags = dict.fromkeys(urls, '"v0"')
        day = 0
        for label, changes in (("all 304", False), ("10% changed", True)):
            ours = bare = float("inf")
            for _ in range(ROUNDS):  # best of ROUNDS, each side
                day += 1
                if changes:
                    version.value += 1  # every tenth feed has new items again
                now = NOW + timedelta(days=day)  # every feed is due again
                started = time.perf_counter()
                report = poll_due(engine, settings, now)
                ours = min(ours, time.perf_counter() - started)
                assert len(report.feeds) == feeds and not report.errors, report.errors[:3]
                if changes:
                    assert sum(1 for p in report.feeds if p.status == "ok") == feeds // 10
                started = time.perf_counter()
                asyncio.run(_bare_cycle(urls, etags))
                bare = min(bare, time.perf_counter() - started)
            rows.append((f"{feeds:,} feeds per poll cycle, {label} (s)", ours, bare, bare / ours))
    engine.dispose()
    return rows


# --- worker memory -----------------------------------------------------------------------------


def _status(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0])  # kB
    return fields


def _idle_worker_peak(folder: Path) -> float:
    """Peak RSS (MB) of a worker with nothing to do: what the imports cost."""
    config = folder / "idle-config"
    config.mkdir()
    (config / "milestones.yaml").write_text("milestones: []\n")
    with _workers(1, _env(f"sqlite:///{folder / 'idle.db'}", config), folder) as (proc,):
        return _status(proc.pid)["VmHWM"] / 1024


def _bench_memory(folder: Path, milestones: int = 100_000, feeds: int = 10_000) -> list[Row]:
    idle = _idle_worker_peak(folder)
    database_url = f"sqlite:///{folder / 'memory.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    _fill(engine, milestones, 100)  # bench/scan's bulk load; 100 of them due
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE milestones SET origin = 'api'")  # not the config file's to remove
    config = folder / "memory-config"
    config.mkdir()
    (config / "milestones.yaml").write_text("milestones: []\n")
    rows: list[Row] = []
    with _feed_server() as (base, _):
        lines = ["defaults: {interval: 1h, timeout: 20s}", "feeds:"]
        lines += [f"  - {{id: f{i:05d}, url: '{base}/f/{i}.xml'}}" for i in range(feeds)]
        (config / "feeds.yaml").write_text("\n".join(lines) + "\n")
        env = _env(
            database_url,
            config,
            TIMELINE_FEED_TICK="1s",
            TIMELINE_SCAN_INTERVAL="1s",
            TIMELINE_FEED_CONCURRENCY=str(CONCURRENCY),
            TIMELINE_FEED_PER_HOST=str(CONCURRENCY),
        )
        with _workers(1, env, folder) as (proc,):

            def polled() -> bool:
                if proc.poll() is not None:
                    raise RuntimeError(f"the worker exited with {proc.returncode}")
                with engine.connect() as conn:
                    waiting = select(func.count()).select_from(FEEDS).where(FEEDS.c.last_polled_at.is_(None))
                    total = conn.execute(select(func.count()).select_from(FEEDS)).scalar_one()
                    return total == feeds and conn.execute(waiting).scalar_one() == 0

            started = time.perf_counter()
            _wait(polled, 600, "every feed polled once")
            took = time.perf_counter() - started
            status = _status(proc.pid)
    engine.dispose()
    peak = status["VmHWM"] / 1024
    rows.append(("worker peak RSS (MB), idle (imports only)", idle, 150.0, idle / 150))
    rows.append((f"worker peak RSS (MB), {milestones:,} milestones + {feeds:,} feeds", peak, 150.0, peak / 150))
    rows.append((f"worker start + first poll of {feeds:,} feeds (s)", took, took, 1.0))
    return rows


def run() -> list[Row]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        rows = _bench_deliveries(folder)
        rows += _bench_feeds(folder)
        rows += _bench_memory(folder)
    return rows


if __name__ == "__main__":
    for label, ours, base, ratio in run():
        print(f"{label:<60} {ours:>10.2f} {base:>10.2f} {ratio:>7.3f}")
