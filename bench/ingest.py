"""The first poll of large feeds, end to end, against bare `feedparser.parse` of the same bytes.

- first poll, `timeline poll` process: four generated 2,000-entry feeds (two RSS 2.0, two Atom 1.0,
  about 2 KB of HTML per entry) served by a local server, polled by a `timeline poll --json`
  process on a database already migrated (process start, imports, config, fetch, parse, normalise,
  sanitise, match, hash, batched writes, exit) vs `feedparser.parse` of the four documents in this
  process. Target: ratio <= 0.25.
- first poll, in process: the same poll through `poll_due` (no process start, no imports).
- JSON Feed first poll, in process: a 2,000-item JSON Feed with the same items, vs
  `feedparser.parse` of the RSS document carrying them (feedparser cannot read JSON Feed).

Times in seconds, best of a few runs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import feedparser
from aiohttp import web

from bench.feeds import WORDS, local_server, serve_forever
from timeline.db import make_engine, upgrade

Row = tuple[str, float, float, float]
ENTRIES = 2000
KINDS = ("rss", "atom", "rss", "atom")
MILESTONES = "milestones:\n  - {id: anthropic-us, title: Anthropic in the US, when: 2027, tags: [anthropic]}\n"


def _item(rng: random.Random, feed: int, i: int) -> dict[str, str]:
    paragraphs = "".join(
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(40))} "
        f"<a href='https://example.com/{feed}/{i}/{p}'>more</a> <em>{rng.choice(WORDS)}</em></p>"
        for p in range(6)
    )
    hour = i % 24
    return {
        "id": f"urn:bench:{feed}:{i}",
        "title": f"Item {i}: {' '.join(rng.choice(WORDS) for _ in range(8))}",
        "link": f"https://example.com/news/{feed}/{i}",
        "html": paragraphs,
        "date": f"2026-03-01T{hour:02d}:00:00Z",
        "rfc822": f"Sun, 01 Mar 2026 {hour:02d}:00:00 GMT",
    }


def items(feed: int, count: int = ENTRIES) -> list[dict[str, str]]:
    rng = random.Random(feed)
    return [_item(rng, feed, i) for i in range(count)]


def rss(found: list[dict[str, str]]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench</title>']
    parts.append("<link>https://example.com/</link><description>bench</description>")
    for it in found:
        parts.append(
            f"<item><title>{escape(it['title'])}</title><link>{it['link']}</link><guid>{it['id']}</guid>"
            f"<pubDate>{it['rfc822']}</pubDate><description>{escape(it['html'])}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def atom(found: list[dict[str, str]]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">']
    parts.append("<title>Bench</title><id>urn:bench</id><updated>2026-03-01T00:00:00Z</updated>")
    for it in found:
        parts.append(
            f"<entry><title type='text'>{escape(it['title'])}</title><link href='{it['link']}'/><id>{it['id']}</id>"
            f"<updated>{it['date']}</updated><content type='html'>{escape(it['html'])}</content></entry>"
        )
    parts.append("</feed>")
    return "".join(parts).encode()


def json_feed(found: list[dict[str, str]]) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Bench",
        "items": [
            {
                "id": it["id"],
                "url": it["link"],
                "title": it["title"],
                "content_html": it["html"],
                "date_published": it["date"],
            }
            for it in found
        ],
    }
    return json.dumps(document).encode()


def documents(count: int = ENTRIES) -> dict[str, bytes]:
    return {f"f{n}.{kind}": (rss if kind == "rss" else atom)(items(n, count)) for n, kind in enumerate(KINDS)}


def _serve(port: Any, bodies: dict[str, bytes]) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        kind = "application/feed+json" if name.endswith("json") else "application/xml"
        return web.Response(body=bodies[name], content_type=kind)

    serve_forever(port, "/{name}", handle)


def _best(runs: int, measure: Callable[[int], float]) -> float:
    return min(measure(i) for i in range(runs))


def _bare(bodies: list[bytes]) -> float:
    started = time.perf_counter()
    for body in bodies:
        feedparser.parse(body)
    return time.perf_counter() - started


def _config(folder: Path, base: str, names: list[str]) -> None:
    (folder / "milestones.yaml").write_text(MILESTONES)
    lines = ["feeds:"]
    for name in names:
        lines.append(f"  - id: {name.replace('.', '-')}")
        lines.append(f"    url: {base}/{name}")
        lines.append("    match: {any: [anthropic], all: ['data centre*']}")
        lines.append("    tags: [anthropic]")
    (folder / "feeds.yaml").write_text("\n".join(lines) + "\n")


def _migrated(folder: Path) -> Path:
    template = folder / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    upgrade(engine)
    engine.dispose()
    return template


def _process_poll(folder: Path, base: str, names: list[str], runs: int) -> float:
    config = folder / "config"
    config.mkdir()
    _config(config, base, names)
    template = _migrated(folder)
    timeline = Path(sys.executable).with_name("timeline")

    def once(run: int) -> float:
        database = folder / f"process{run}.db"
        shutil.copy(template, database)
        env = {
            **os.environ,
            "TIMELINE_CONFIG_DIR": str(config),
            "TIMELINE_DATABASE_URL": f"sqlite:///{database}",
            "TIMELINE_FEED_ALLOW_PRIVATE": "true",
            "TIMELINE_LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        done = subprocess.run([str(timeline), "poll", "--json"], env=env, capture_output=True, check=False)
        elapsed = time.perf_counter() - started
        report = json.loads(done.stdout) if done.returncode == 0 else {}
        polls = report.get("feeds", [])
        assert len(polls) == len(names) and all(p["status"] == "ok" for p in polls), done.stderr[-2000:]
        return elapsed

    return _best(runs, once)


def _in_process_poll(folder: Path, base: str, names: list[str], runs: int) -> float:
    from timeline.config.feeds import load_feeds
    from timeline.feeds.poll import poll_due
    from timeline.feeds.store import sync_feeds
    from timeline.settings import load_settings

    config = folder / f"config-{names[0]}"
    config.mkdir()
    _config(config, base, names)
    template = _migrated(folder)
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def once(run: int) -> float:
        database = folder / f"inprocess-{names[0]}-{run}.db"
        shutil.copy(template, database)
        settings = load_settings(config_dir=config, database_url=f"sqlite:///{database}", feed_allow_private=True)
        engine = make_engine(settings.database_url)
        with engine.begin() as conn:
            sync_feeds(conn, load_feeds(config / "feeds.yaml"), now)
        started = time.perf_counter()
        report = poll_due(engine, settings, now, force=True)
        elapsed = time.perf_counter() - started
        engine.dispose()
        assert len(report.feeds) == len(names) and not report.errors, report.errors[:2]
        return elapsed

    return _best(runs, once)


def run(entries: int = ENTRIES, runs: int = 3) -> list[Row]:
    bodies = documents(entries)
    same_items_rss = rss(items(9, entries))
    bodies["f9.json"] = json_feed(items(9, entries))
    feeds = [name for name in bodies if not name.endswith("json")]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as name, local_server(_serve, bodies) as base:
        folder = Path(name)
        bare = _best(runs, lambda _: _bare([bodies[n] for n in feeds]))
        process = _process_poll(folder, base, feeds, runs)
        label = f"first poll of 4 x {entries:,} entries, `timeline poll` process (vs feedparser.parse)"
        rows.append((label, process, bare, process / bare))
        inside = _in_process_poll(folder, base, feeds, runs)
        rows.append(
            (f"first poll of 4 x {entries:,} entries, in process (vs feedparser.parse)", inside, bare, inside / bare)
        )
        json_bare = _best(runs, lambda _: _bare([same_items_rss]))
        json_poll = _in_process_poll(folder, base, ["f9.json"], runs)
        label = f"first poll of a {entries:,}-item JSON Feed, in process (vs feedparser.parse of it as RSS)"
        rows.append((label, json_poll, json_bare, json_poll / json_bare))
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row[0]:<90} {row[1]:>8.3f} {row[2]:>8.3f} {row[3]:>6.3f}")
