"""feedparser's own test corpus (about 2,240 documents: well-formed, ill-formed, encodings, entities,
HTTP, compression) served over HTTP and ingested: no exception escapes, no feed holds up another."""

from __future__ import annotations

import importlib.util
import logging
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import feedparser.api
import pytest
from sqlalchemy import Engine, func, select

from tests.feeds.builders import Item, add_feeds, rss, spec
from tests.feeds.conftest import NOW, make_settings
from tests.feeds.server import LocalServer, static
from timeline.feeds.ingest import ENTRIES
from timeline.feeds.parse import parse_document
from timeline.feeds.poll import poll_due

_HEADER = re.compile(r"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)
_ENCODINGS = {".gz": "gzip", ".z": "deflate"}


def _served(path: Path, server: LocalServer) -> tuple[int, dict[str, str]]:
    """The status and headers a corpus file asks for in its leading comment."""
    status, headers = 200, {}
    head = path.read_bytes()[:2000].decode("latin-1")
    comment = head[: head.find("-->")] if "-->" in head else ""
    for name, value in _HEADER.findall(comment):
        if name.lower() == "status":
            status = int(value)
            continue
        value = value.replace("http://localhost:8097/tests/", server.url("/corpus/"))
        headers[name] = value.replace("http://localhost:8097/", server.url("/"))
    if path.suffix in _ENCODINGS:
        headers["Content-Encoding"] = _ENCODINGS[path.suffix]
    return status, headers


def test_every_corpus_file_is_ingested_without_crash_or_delay(
    shared_dir: Path, server: LocalServer, sqlite_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = shared_dir / "corpus" / "feedparser"
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "LICENSE")
    assert len(files) > 2000
    specs = []
    for index, path in enumerate(files):
        relative = path.relative_to(corpus).as_posix()
        status, headers = _served(path, server)
        server.route(f"/corpus/{relative}", static(path.read_bytes(), status, headers))
        specs.append(spec(f"c{index:04d}", server.url(f"/corpus/{relative}")))
    server.route("/-/return-304.xml", static(status=304))
    canary = spec("canary", server.route("/canary.xml", static(rss(Item("Still here", guid="c")))))
    add_feeds(sqlite_engine, *specs, canary)
    settings = make_settings(tmp_path, feed_concurrency=64, feed_per_host=64)

    caplog.set_level(logging.ERROR, logger="timeline.feeds")
    started = time.perf_counter()
    report = poll_due(sqlite_engine, settings, NOW)
    elapsed = time.perf_counter() - started

    assert len(report.feeds) == len(files) + 1
    assert [r.getMessage() for r in caplog.records] == []
    assert not [p for p in report.feeds if p.error and p.error.startswith(("storing", "not saved", "parser failed"))]
    statuses = Counter(p.status for p in report.feeds)
    assert statuses["ok"] > 0.9 * len(files), statuses
    polls = {p.feed_id: p for p in report.feeds}
    assert polls["canary"].status == "ok" and polls["canary"].fetch_seconds < 1.0
    assert max(p.fetch_seconds for p in report.feeds) < 5.0
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one() > 1000
    assert elapsed < 60


def test_feedparser_is_loaded_on_first_use_without_missing_sax_drivers() -> None:
    """feedparser is the fallback: a poll process that never needs it does not pay its import, and
    once loaded it no longer asks for SAX drivers that are not installed on every parse."""
    code = "import sys, timeline.feeds.poll; print('feedparser' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
    document = parse_document(b"<rss version='2.0'><channel><item><title>x</title>", {}, "http://example.com/")
    assert document.parser == "feedparser" and [e.title for e in document.entries] == ["x"]
    assert "drv_libxml2" not in feedparser.api.PREFERRED_XML_PARSERS or importlib.util.find_spec("drv_libxml2")
    assert all(importlib.util.find_spec(name) for name in feedparser.api.PREFERRED_XML_PARSERS)
