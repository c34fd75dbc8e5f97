"""The reliability harness: a fresh PostgreSQL database per scenario, generated config files, real
`timeline worker` processes, a local feed server and webhook receivers on 127.0.0.1, and the checks
every scenario ends with (each notice once, each delivery received, repeats under the same id).

Waits are for conditions with a deadline, polled every 50-100 ms; nothing asserts after a fixed sleep.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import Engine, func, select
from standardwebhooks import Webhook

from alerts.notices import NOTICES
from alerts.outbox import DELIVERIES, SUBSCRIPTIONS
from tests.conftest import fresh_database, pg_unavailable, require_pg
from timeline.db import make_engine

TIMELINE = Path(sys.executable).parent / "timeline"
SUBSCRIBERS = ("alpha", "beta")
FEED_RULE_WORD = "Anthropic"


def wait_for(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """An empty PostgreSQL database (not migrated: the workers migrate it as they start, all at once)."""
    require_pg()
    # A scenario that restarted the server must not leave it down.
    with fresh_database("timeline_rel", before_drop=pg_ready) as url:
        yield url


def pg_ready(timeout: float = 60.0) -> None:
    """Wait until the PostgreSQL server answers (after a restart)."""

    def answers() -> bool:
        return pg_unavailable() is None

    wait_for(answers, timeout, "PostgreSQL answers again", every=0.2)


def pg_cluster() -> tuple[str, str]:
    """(version, name) of this machine's PostgreSQL cluster, for pg_ctlcluster."""
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    return versions[-1], "main"


def restart_postgres() -> None:
    version, name = pg_cluster()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart", "--mode", "fast"],
        check=True,
        timeout=60,
        capture_output=True,
    )


# --- Local HTTP servers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


class LocalServer:
    """An aiohttp server on 127.0.0.1:`port`, in its own thread, that can be stopped and started
    again on the same port (a receiver that goes away and comes back)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"server-{self.port}", daemon=True)
        self._thread.start()
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raise NotImplementedError

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(15)

    @property
    def running(self) -> bool:
        return self._runner is not None

    def start(self) -> None:
        async def start() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self.handle)
            runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True, backlog=512).start()
            self._runner = runner

        self._call(start())

    def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            self._call(runner.cleanup())

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class Receiver(LocalServer):
    """Webhook receiver: answers `status` after `delay` seconds, records every request."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port)
        self.status = 200
        self.delay = 0.0
        self.hits: list[Hit] = []
        self._lock = threading.Lock()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        status, delay = self.status, self.delay
        if delay:
            await asyncio.sleep(delay)
        with self._lock:
            self.hits.append(Hit(request.path, dict(request.headers), body, status))
        return web.Response(status=status, text="ok" if status < 300 else "not now")

    def accepted(self) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if 200 <= h.status < 300]

    def accepted_ids(self) -> set[tuple[str, str]]:
        return {(h.path, h.headers["webhook-id"]) for h in self.accepted()}


class FeedServer(LocalServer):
    """Serves generated RSS documents at /feed-N.xml with an ETag (304 on a matching If-None-Match)."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        super().__init__()
        self.documents = documents
        self.requests = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = self.documents.get(request.path)
        if body is None:
            return web.Response(status=404)
        etag = f'"{len(body)}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"})


# --- Config files -----------------------------------------------------------------------------


def rss(feed: int, items: int) -> bytes:
    entries = "".join(
        f"<item><title>{FEED_RULE_WORD} data centre news {feed}-{i}</title>"
        f"<link>https://news.example.com/{feed}/{i}</link><guid>urn:rel:{feed}:{i}</guid>"
        f"<description>{FEED_RULE_WORD} builds capacity, item {i} of feed {feed}.</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
        f"<link>https://news.example.com/{feed}</link><description>d</description>{entries}</channel></rss>"
    ).encode()


@dataclass
class Scenario:
    """What one run is made of: the config folder, the environment of its workers, its servers."""

    folder: Path
    database_url: str
    receiver: Receiver
    feeds: FeedServer
    milestones: int
    items: int
    secrets: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)

    def subscription_path(self, name: str) -> str:
        return f"/hook/{name}"


def write_config(
    folder: Path, receiver: Receiver, feeds: FeedServer, milestones: int, due_in: float, feed_count: int
) -> dict[str, str]:
    """milestones.yaml (instants from `due_in` seconds ahead, spread over 2 s), feeds.yaml,
    subscriptions.yaml; returns the webhook secrets by subscription."""
    folder.mkdir(parents=True, exist_ok=True)
    start = datetime.now(UTC) + timedelta(seconds=due_in)
    lines = ["defaults: {timezone: UTC, remind: [], grace: 30d}", "milestones:"]
    for i in range(milestones):
        moment = (start + timedelta(milliseconds=(2000 * i) // max(milestones, 1))).replace(microsecond=0)
        lines += [
            f"  - id: m{i:04d}",
            f"    title: Milestone {i}",
            f"    when: '{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}'",
            "    tags: [reliability]",
        ]
    (folder / "milestones.yaml").write_text("\n".join(lines) + "\n")
    lines = ["defaults: {interval: 1h, timeout: 10s}", "feeds:"]
    for f in range(feed_count):
        lines += [
            f"  - id: feed-{f}",
            f"    url: '{feeds.url(f'/feed-{f}.xml')}'",
            f"    match: {{any: [{FEED_RULE_WORD}]}}",
            "    notify_backlog: true",
        ]
    (folder / "feeds.yaml").write_text("\n".join(lines) + "\n")
    keys = {name: "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode() for name in SUBSCRIBERS}
    lines = ["subscriptions:"]
    for name in SUBSCRIBERS:
        lines += [
            f"  - id: {name}",
            f"    url: '{receiver.url(f'/hook/{name}')}'",
            "    format: standard",
            '    events: ["*"]',
            f"    secret_env: RELIABILITY_SECRET_{name.upper()}",
        ]
    (folder / "subscriptions.yaml").write_text("\n".join(lines) + "\n")
    return keys


def worker_env(database_url: str, folder: Path, keys: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    env |= {
        "TIMELINE_DATABASE_URL": database_url,
        "TIMELINE_CONFIG_DIR": str(folder),
        "TIMELINE_WEBHOOK_ALLOW_PRIVATE": "true",
        "TIMELINE_FEED_ALLOW_PRIVATE": "true",
        "TIMELINE_SCAN_INTERVAL": "1s",
        "TIMELINE_FEED_TICK": "1s",
        "TIMELINE_DELIVERY_TICK": "1s",
        "TIMELINE_RELOAD_INTERVAL": "5s",
        "TIMELINE_RETRY_SCHEDULE": "1s,1s,2s,2s,3s",
        "TIMELINE_WEBHOOK_TIMEOUT": "3s",
        "TIMELINE_DELIVERY_LEASE": "6s",
        "TIMELINE_LOG_LEVEL": "INFO",
        # Milestones that came due while the workers were still starting are notified all the same.
        "TIMELINE_NOTIFY_PAST": "true",
        "PYTHONFAULTHANDLER": "1",  # a hung worker dumps its threads on SIGABRT
    }
    env |= {f"RELIABILITY_SECRET_{name.upper()}": key for name, key in keys.items()}
    return env | extra


# --- Worker processes -------------------------------------------------------------------------


class Workers:
    """`timeline worker` processes; each one's log goes to its own file (a pipe could fill and block it)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        logs.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.all: list[subprocess.Popen[bytes]] = []
        self._count = 0

    def start(self, n: int = 1) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(n):
            self._count += 1
            with (self.logs / f"worker-{self._count}.log").open("wb") as log:
                proc = subprocess.Popen(
                    [str(TIMELINE), "worker"], env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.logs
                )
            proc.log_path = self.logs / f"worker-{self._count}.log"  # type: ignore[attr-defined]
            self.procs.append(proc)
            self.all.append(proc)
            started.append(proc)
        return started

    @staticmethod
    def log(proc: subprocess.Popen[bytes]) -> str:
        return Path(proc.log_path).read_text(errors="replace")  # type: ignore[attr-defined]

    def wait_running(self, procs: list[subprocess.Popen[bytes]], timeout: float = 60) -> None:
        def running() -> bool:
            for proc in procs:
                if proc.poll() is not None:
                    raise AssertionError(f"worker {proc.pid} exited with {proc.returncode}:\n{self.log(proc)[-3000:]}")
            return all('"message": "worker running"' in self.log(proc) for proc in procs)

        wait_for(running, timeout, "workers started")

    def kill9(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.procs.remove(proc)

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def stop_all(self) -> None:
        for proc in self.all:
            if proc.poll() is None:
                proc.kill()
        for proc in self.all:
            proc.wait(10)

    def errors(self) -> list[str]:
        """Tracebacks and ERROR lines logged by any worker, for the report of a failed check."""
        found = []
        for proc in self.all:
            for line in self.log(proc).splitlines():
                if '"level": "ERROR"' in line:
                    entry = json.loads(line)
                    cause = entry.get("exception", "").strip().splitlines()[-3:]
                    found.append(f"[{proc.pid}] {entry['message']}: {' | '.join(cause)[:800]}")
                elif "Traceback" in line:
                    found.append(f"[{proc.pid}] {line[:300]}")
        return found


@pytest.fixture
def servers() -> Iterator[tuple[Receiver, FeedServer]]:
    receiver = Receiver()
    feeds = FeedServer({})
    feeds.start()
    try:
        yield receiver, feeds
    finally:
        receiver.close()
        feeds.close()


@pytest.fixture
def make(
    fresh_pg: str, servers: tuple[Receiver, FeedServer], tmp_path: Path
) -> Iterator[Callable[..., tuple[Scenario, Workers]]]:
    receiver, feeds = servers
    made: list[Workers] = []

    def make(
        *, milestones: int = 500, items: int = 200, feed_count: int = 4, due_in: float = 8.0, **env: str
    ) -> tuple[Scenario, Workers]:
        per_feed = items // feed_count
        feeds.documents = {f"/feed-{f}.xml": rss(f, per_feed) for f in range(feed_count)}
        folder = tmp_path / "config"
        keys = write_config(folder, receiver, feeds, milestones, due_in, feed_count)
        scenario = Scenario(folder, fresh_pg, receiver, feeds, milestones, per_feed * feed_count, keys)
        scenario.env = worker_env(fresh_pg, folder, keys, **env)
        workers = Workers(scenario.env, tmp_path / "logs")
        made.append(workers)
        return scenario, workers

    try:
        yield make
    finally:
        for workers in made:
            workers.stop_all()


@pytest.fixture
def db(fresh_pg: str) -> Iterator[Engine]:
    engine = make_engine(fresh_pg)
    yield engine
    engine.dispose()


# --- Checks -----------------------------------------------------------------------------------


def identity(payload: dict[str, Any]) -> tuple[str, str]:
    """What a notice is about, read from a webhook body: (type, milestone or item link)."""
    data = payload["data"]
    return payload["type"], str(data.get("milestone") or data.get("link") or data.get("subscription_id"))


def counts(engine: Engine) -> dict[str, int]:
    """Notices by type and deliveries by status (`d:` prefix), for progress and failure messages."""
    try:
        with engine.connect() as conn:
            n = dict(conn.execute(select(NOTICES.c.type, func.count()).group_by(NOTICES.c.type)).all())
            d = dict(conn.execute(select(DELIVERIES.c.status, func.count()).group_by(DELIVERIES.c.status)).all())
    except Exception as exc:  # the database may be restarting
        return {"unavailable": 1, type(exc).__name__: 1}
    return {**n, **{f"d:{k}": v for k, v in d.items()}}


def expected_done(engine: Engine, scenario: Scenario) -> Callable[[], bool]:
    """True once every milestone has its due notice, every feed item its notice, and every
    notice has a delivered delivery to each subscriber."""
    total_subs = len(SUBSCRIBERS)

    def done() -> bool:
        c = counts(engine)
        if c.get("milestone.due", 0) < scenario.milestones or c.get("feed.item_matched", 0) < scenario.items:
            return False
        notices = sum(v for k, v in c.items() if not k.startswith("d:"))
        return c.get("d:delivered", 0) >= notices * total_subs

    return done


def check_outcome(engine: Engine, scenario: Scenario) -> dict[str, int]:
    """The promises: each notice exists once; each (notice, subscriber) has one delivery, delivered
    and received at least once with a valid signature; a repeat carries the same webhook-id."""
    with engine.connect() as conn:
        notices = conn.execute(select(NOTICES.c.id, NOTICES.c.key, NOTICES.c.type, NOTICES.c.payload)).all()
        deliveries = conn.execute(
            select(
                DELIVERIES.c.notice_id,
                DELIVERIES.c.subscription_id,
                DELIVERIES.c.webhook_id,
                DELIVERIES.c.status,
                DELIVERIES.c.attempts,
            )
        ).all()
        subs = set(conn.execute(select(SUBSCRIPTIONS.c.id)).scalars())
    assert subs == set(SUBSCRIBERS)
    keys = [n.key for n in notices]
    assert len(keys) == len(set(keys)), "a notice key exists twice"
    by_type: dict[str, int] = defaultdict(int)
    for n in notices:
        by_type[n.type] += 1
    due = {n.payload["data"]["milestone"] for n in notices if n.type == "milestone.due"}
    assert len(due) == by_type["milestone.due"] == scenario.milestones, dict(by_type)
    assert by_type["feed.item_matched"] == scenario.items, dict(by_type)
    unexpected = set(by_type) - {"milestone.due", "milestone.window_opened", "feed.item_matched"}
    assert not unexpected, f"unexpected notices: {dict(by_type)}"
    # One delivery per (notice, subscriber), all delivered.
    pairs = [(d.notice_id, d.subscription_id) for d in deliveries]
    assert len(pairs) == len(set(pairs)) == len(notices) * len(SUBSCRIBERS)
    not_done = [d for d in deliveries if d.status != "delivered"]
    assert not not_done, f"{len(not_done)} deliveries not delivered, e.g. {not_done[:3]}"
    # What the receiver got.
    expected: dict[tuple[str, str], tuple[str, str]] = {}  # (path, webhook-id) -> identity
    by_id = {n.id: n for n in notices}
    for d in deliveries:
        payload = by_id[d.notice_id].payload
        expected[(scenario.subscription_path(d.subscription_id), d.webhook_id)] = identity(payload)
    seen: dict[tuple[str, tuple[str, str]], set[str]] = defaultdict(set)
    verifiers = {scenario.subscription_path(name): Webhook(key) for name, key in scenario.secrets.items()}
    hits = scenario.receiver.accepted()
    for hit in hits:
        payload = verifiers[hit.path].verify(hit.body, hit.headers)  # raises on a bad signature
        webhook_id = hit.headers["webhook-id"]
        assert (hit.path, webhook_id) in expected, f"{webhook_id} at {hit.path} is no delivery of this subscriber"
        assert expected[(hit.path, webhook_id)] == identity(payload), "a webhook-id carried another notice"
        seen[(hit.path, identity(payload))].add(webhook_id)
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    assert not twice, f"one notice arrived under several webhook-ids: {list(twice.items())[:3]}"
    missing = set(expected) - scenario.receiver.accepted_ids()
    assert not missing, f"{len(missing)} deliveries marked delivered never arrived, e.g. {sorted(missing)[:3]}"
    return {
        "notices": len(notices),
        "deliveries": len(deliveries),
        "received": len(hits),
        "repeats": len(hits) - len(expected),
        "max_attempts": max(d.attempts for d in deliveries),
        **{f"type:{k}": v for k, v in by_type.items()},
    }


def report(name: str, summary: dict[str, Any]) -> None:
    """One line per scenario in the test output (-s or -rA), for the record."""
    print(f"\n[reliability] {name}: {json.dumps(summary, sort_keys=True)}")
