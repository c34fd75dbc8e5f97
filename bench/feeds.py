"""Feed polling costs, all local (no packet leaves 127.0.0.1).

- ingest N: our whole first-poll path for a document of N realistic ~1 KB HTML entries (parse,
  normalise, sanitise, match, batch insert, notices, state) vs bare `feedparser.parse` of the same
  bytes. Target: ratio <= 1.2.
- unchanged re-poll: a complete poll of an unchanged 200-entry feed (claim, HTTP GET, hash, state
  write) vs parsing it. Target: ratio <= 0.05.
- 304 x 1000: polling 1,000 feeds that answer 304 vs a bare aiohttp loop over the same URLs at the
  same concurrency; ratio = our throughput / bare throughput. Target: >= 0.5.

The HTTP server runs in a child process so that it does not share the GIL with what is measured.
Times in seconds (best of a few runs).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
from aiohttp import web

from timeline.config.feeds import FeedSpec
from timeline.db import make_engine, upgrade
from timeline.feeds.ingest import MilestoneIndex, ingest
from timeline.feeds.match import Rule
from timeline.feeds.parse import parse_document
from timeline.feeds.poll import poll_due
from timeline.feeds.store import claim_due, save_state, sync_feeds
from timeline.settings import load_settings

Row = tuple[str, float, float, float]
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CONCURRENCY = 50
WORDS = [
    "data",
    "centre",
    "investment",
    "anthropic",
    "microsoft",
    "google",
    "iowa",
    "sweden",
    "construction",
    "capacity",
    "power",
    "grid",
    "gigawatt",
    "cooling",
    "campus",
    "billion",
    "dollars",
    "compute",
    "training",
    "cluster",
    "region",
    "permit",
    "county",
    "jobs",
    "energy",
]


def generate_feed(entries: int, seed: int = 1) -> bytes:
    """An RSS 2.0 document with `entries` items of about 1 KB of HTML each."""
    rng = random.Random(seed)
    items = []
    for i in range(entries):
        paragraphs = "".join(
            f"<p>{' '.join(rng.choice(WORDS) for _ in range(22))} <a href='https://example.com/{i}/{p}'>more</a></p>"
            for p in range(5)
        )
        summary = paragraphs.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        items.append(
            f"<item><title>Item {i}: {' '.join(rng.choice(WORDS) for _ in range(8))}</title>"
            f"<link>https://example.com/news/{i}</link><guid>urn:bench:{seed}:{i}</guid>"
            f"<pubDate>Sun, 01 Mar 2026 {i % 24:02d}:00:00 GMT</pubDate><description>{summary}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench</title>'
        "<link>https://example.com/</link><description>bench</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def _best(runs: int, measure: Callable[[int], float]) -> float:
    return min(measure(i) for i in range(runs))


def _bench_ingest(folder: Path, entries: int) -> Row:
    body = generate_feed(entries)
    engine = make_engine(f"sqlite:///{folder / f'ingest{entries}.db'}")
    upgrade(engine)
    rule = Rule(any=("anthropic",), all=("data centre*",))
    runs = 3 if entries >= 2000 else 5

    def ours(run: int) -> float:
        spec = FeedSpec(id=f"f{run}", url="https://example.com/feed", name="F", rule=rule, notify_backlog=True)
        with engine.begin() as conn:
            sync_feeds(conn, [spec], NOW)
        (feed,) = claim_due(engine, NOW, limit=1, feed_ids=[spec.id])
        started = time.perf_counter()
        document = parse_document(body, {"content-type": "application/rss+xml"}, spec.url)
        with engine.begin() as conn:
            save_state(conn, feed, feed.state, NOW, backlog_done=True)
            ingest(conn, feed, document.entries, NOW, MilestoneIndex())
        return time.perf_counter() - started

    def bare(run: int) -> float:
        started = time.perf_counter()
        feedparser.parse(body, response_headers={"content-type": "application/rss+xml"})
        return time.perf_counter() - started

    mine, base = _best(runs, ours), _best(runs, bare)
    engine.dispose()
    return (f"ingest {entries} entries (vs feedparser.parse)", mine, base, mine / base)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def serve_forever(port: Any, route: str, handle: Handler) -> None:
    """The body of a server process: `handle` answers GET `route` on 127.0.0.1, on a free port
    written to `port` (a shared Value), until the process is killed."""

    async def main() -> None:
        app = web.Application()
        app.router.add_get(route, handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        port.value = runner.addresses[0][1]
        await asyncio.Event().wait()

    asyncio.run(main())


@contextmanager
def local_server(target: Callable[..., None], *args: Any) -> Iterator[str]:
    """Run `target(port, *args)` (which calls `serve_forever`) in a forked process, so that the server
    does not share the GIL with what is measured; yields its base URL."""
    context = multiprocessing.get_context("fork")
    port = context.Value("i", 0)
    process = context.Process(target=target, args=(port, *args), daemon=True)
    process.start()
    try:
        deadline = time.monotonic() + 10
        while port.value == 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the local server did not start within 10 s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port.value}"
    finally:
        process.terminate()
        process.join(5)


def _serve(port: Any, feed: bytes) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/304/"):
            return web.Response(status=304, headers={"ETag": '"same"'})
        return web.Response(body=feed, headers={"ETag": '"v1"', "Content-Type": "application/rss+xml"})

    serve_forever(port, "/{tail:.*}", handle)


def _bench_unchanged(folder: Path, base_url: str, body: bytes) -> Row:
    engine = make_engine(f"sqlite:///{folder / 'repoll.db'}")
    upgrade(engine)
    settings = load_settings(feed_allow_private=True, database_url="sqlite:///" + str(folder / "unused.db"))
    spec = FeedSpec(id="same", url=f"{base_url}/feed.xml", name="Same", interval=timedelta(minutes=15))
    with engine.begin() as conn:
        sync_feeds(conn, [spec], NOW)
    poll_due(engine, settings, NOW)  # first poll: parsed and stored

    def ours(run: int) -> float:
        started = time.perf_counter()
        report = poll_due(engine, settings, NOW, feed_ids=["same"], force=True)
        elapsed = time.perf_counter() - started
        assert report.feeds[0].status == "not_modified" and report.feeds[0].parse_seconds == 0
        return elapsed

    def bare(run: int) -> float:
        started = time.perf_counter()
        feedparser.parse(body)
        return time.perf_counter() - started

    mine, base = _best(5, ours), _best(3, bare)
    engine.dispose()
    return ("unchanged re-poll, 200 entries (vs a parse)", mine, base, mine / base)


def _bench_304(folder: Path, base_url: str, feeds: int = 1000) -> Row:
    engine = make_engine(f"sqlite:///{folder / 'poll304.db'}")
    upgrade(engine)
    settings = load_settings(
        feed_allow_private=True,
        feed_concurrency=CONCURRENCY,
        feed_per_host=CONCURRENCY,
        database_url="sqlite:///" + str(folder / "unused.db"),
    )
    urls = [f"{base_url}/304/{i}.xml" for i in range(feeds)]
    specs = [FeedSpec(id=f"f{i:04d}", url=url, name=f"F{i}") for i, url in enumerate(urls)]
    with engine.begin() as conn:
        sync_feeds(conn, specs, NOW)

    def ours(run: int) -> float:
        now = NOW + timedelta(days=run + 1)  # every feed is due again
        started = time.perf_counter()
        report = poll_due(engine, settings, now)
        elapsed = time.perf_counter() - started
        assert len(report.feeds) == feeds and not report.errors, report.errors[:3]
        return elapsed

    async def loop() -> None:
        gate = asyncio.Semaphore(CONCURRENCY)
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def get(url: str) -> None:
                async with gate, session.get(url, headers={"If-None-Match": '"same"'}) as response:
                    await response.read()

            await asyncio.gather(*(get(url) for url in urls))

    def bare(run: int) -> float:
        started = time.perf_counter()
        asyncio.run(loop())
        return time.perf_counter() - started

    mine, base = _best(3, ours), _best(3, bare)
    engine.dispose()
    # Throughput ratio: ours / bare, in feeds per second.
    return (f"{feeds} feeds answering 304 (throughput vs bare aiohttp)", mine, base, base / mine)


def run() -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for entries in (20, 200, 2000):
            rows.append(_bench_ingest(folder, entries))
        feed = generate_feed(200, seed=2)
        with local_server(_serve, feed) as base_url:
            rows.append(_bench_unchanged(folder, base_url, feed))
            rows.append(_bench_304(folder, base_url))
    return rows


if __name__ == "__main__":
    print(f"{'benchmark':<55} {'ours (s)':>10} {'baseline (s)':>13} {'ratio':>8}")
    for label, mine, base, ratio in run():
        print(f"{label:<55} {mine:>10.4f} {base:>13.4f} {ratio:>8.3f}")
