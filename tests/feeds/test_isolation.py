"""One hostile feed never stops the others (#17 H1 and M8), on SQLite and PostgreSQL, through real
polls of local servers: each hostile member is recorded as that feed's outcome (or failure), and the
good feeds of the same batch are stored exactly once."""

from __future__ import annotations

import socketserver
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text

from alerts.notices import NOTICES
from tests.feeds.builders import Item, add_feeds, rss, spec
from tests.feeds.conftest import NOW
from tests.feeds.server import LocalServer, static
from timeline.feeds.decide import MAX_DELAY
from timeline.feeds.health import feed_health
from timeline.feeds.ingest import ENTRIES
from timeline.feeds.match import Rule
from timeline.feeds.poll import poll_due
from timeline.feeds.store import FEEDS
from timeline.settings import Settings

GOOD = {name: rss(*(Item(f"{name} item {i}", guid=f"{name}-{i}") for i in range(3))) for name in ("good1", "good2")}


@contextmanager
def raw_server(response: bytes) -> Iterator[str]:
    """A server that answers every request with `response`, byte for byte (headers no HTTP library
    would write: bytes that are not UTF-8)."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                data += chunk
            self.request.sendall(response)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


def _response(body: bytes, *headers: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"Content-Type: application/rss+xml", b"Content-Length: %d" % len(body), *headers]
    return b"\r\n".join([*head, b"Connection: close", b"", body])


@contextmanager
def refusing(engine: Engine, table: str, condition: str, name: str) -> Iterator[None]:
    """A trigger that makes the database refuse writes to `table` where `condition` holds: a fault
    in storing one member, injected where no code of ours can see it coming."""
    if engine.dialect.name == "postgresql":
        statements = [
            "CREATE OR REPLACE FUNCTION refuse_write() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({condition}) EXECUTE FUNCTION refuse_write()",
        ]
        drop = [f"DROP TRIGGER {name} ON {table}"]
    else:
        statements = [
            f"CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} WHEN {condition} "
            "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END",
            f"CREATE TRIGGER {name}_update BEFORE UPDATE ON {table} WHEN {condition} "
            "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END",
        ]
        drop = [f"DROP TRIGGER {name}_insert", f"DROP TRIGGER {name}_update"]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


def _entries(engine: Engine) -> Counter[tuple[str, str]]:
    with engine.connect() as conn:
        return Counter((f, i) for f, i in conn.execute(select(ENTRIES.c.feed_id, ENTRIES.c.identity)))


def _feeds(engine: Engine) -> dict[str, dict[str, object]]:
    with engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(select(FEEDS))}


def _good_stored_once(engine: Engine) -> None:
    stored = _entries(engine)
    for name in GOOD:
        assert {i: n for (f, i), n in stored.items() if f == name} == {f"{name}-{i}": 1 for i in range(3)}


def test_hostile_headers_and_items_beside_good_feeds(engine: Engine, settings: Settings, server: LocalServer) -> None:
    surrogate = rss(
        Item("Lone &#xD800; surrogate", guid="s1"), Item("Nul &#0; title", guid="s2"), Item("Fine", guid="s3")
    )
    with raw_server(_response(GOOD["good1"], b'ETag: "v\xff\xfe"', b"Last-Modified: \xc0\xc1")) as raw:
        specs = [
            spec("good1", raw),
            spec("good2", server.route("/good2.xml", static(GOOD["good2"]))),
            spec(
                "max-age",
                server.route(
                    "/m.xml", static(rss(Item("M", guid="m")), 200, {"Cache-Control": "max-age=99999999999999999999"})
                ),
            ),
            spec("retry-sup", server.route("/r.xml", static(b"busy", 503, {"Retry-After": "²"}))),
            spec("retry-huge", server.route("/h.xml", static(b"slow", 429, {"Retry-After": "9" * 40}))),
            spec("items", server.route("/i.xml", static(surrogate.replace(b"&amp;#", b"&#")))),
        ]
        add_feeds(engine, *specs)
        report = poll_due(engine, settings, NOW)
        again = poll_due(engine, settings, NOW + timedelta(days=2))
    polls = {p.feed_id: p for p in report.feeds}
    assert {f: p.status for f, p in polls.items()} == {
        "good1": "ok",
        "good2": "ok",
        "max-age": "ok",
        "retry-sup": "error",
        "retry-huge": "error",
        "items": "ok",
    }
    assert len(again.feeds) == 6 and not [p for p in again.feeds if (p.error or "").startswith("storing")]
    _good_stored_once(engine)
    stored = _entries(engine)
    assert {i for (f, i) in stored if f == "items"} == {"s1", "s2", "s3"}
    with engine.connect() as conn:
        titles = set(conn.execute(select(ENTRIES.c.title).where(ENTRIES.c.feed_id == "items")).scalars())
    assert titles == {"Lone \ufffd surrogate", "Nul \ufffd title", "Fine"}
    feeds = _feeds(engine)
    assert feeds["good1"]["etag"] is None and feeds["good1"]["last_modified"] is None  # unusable validators dropped
    assert feeds["max-age"]["next_poll_at"] <= NOW + timedelta(days=2) + MAX_DELAY * 1.1  # type: ignore[operator]
    assert feeds["retry-huge"]["next_poll_at"] <= NOW + timedelta(days=2) + MAX_DELAY * 1.1  # type: ignore[operator]
    assert feeds["retry-sup"]["last_error"] == "HTTP 503" and feeds["retry-sup"]["consecutive_failures"] == 2


def test_a_feed_whose_entries_cannot_be_stored_fails_alone_and_raises_feed_failing(
    engine: Engine, settings: Settings, server: LocalServer
) -> None:
    bad = rss(Item("This one will explode", guid="x1"), Item("Innocent", guid="x2"))
    add_feeds(
        engine,
        spec("good1", server.route("/good1.xml", static(GOOD["good1"]))),
        spec("bad", server.route("/bad.xml", static(bad)), Rule(any=("explode",)), notify_backlog=True),
        spec("good2", server.route("/good2.xml", static(GOOD["good2"]))),
    )
    with refusing(engine, "feed_entries", "NEW.title LIKE '%explode%'", "refuse_entry"):
        first = {p.feed_id: p for p in poll_due(engine, settings, NOW).feeds}
        later = NOW + settings.feed_alert_after + timedelta(hours=1)
        second = {p.feed_id: p for p in poll_due(engine, settings, later, force=True).feeds}
    assert (first["good1"].status, first["good1"].new, first["good2"].new) == ("ok", 3, 3)
    assert first["bad"].status == "error" and "storing the result failed" in (first["bad"].error or "")
    assert "refused by a test trigger" in (first["bad"].error or "")
    _good_stored_once(engine)
    assert [i for (f, i) in _entries(engine) if f == "bad"] == []  # none of its items half-stored
    with engine.connect() as conn:
        health = {h.id: h for h in feed_health(conn)}
    assert health["bad"].status == "error" and health["bad"].consecutive_failures == 2
    assert "refused by a test trigger" in (health["bad"].last_error or "")
    assert second["bad"].notices and second["bad"].notices[0].startswith("feed.failing:bad:")
    with engine.connect() as conn:
        kinds = Counter(conn.execute(select(NOTICES.c.type)).scalars())
    assert kinds == Counter({"feed.failing": 1})  # and no match of the refused item was announced


def test_a_state_that_cannot_be_saved_leaves_the_rest_of_the_batch_saved(
    engine: Engine, settings: Settings, server: LocalServer
) -> None:
    """Polls that only move a feed's state are saved together; when that fails, they are saved one
    by one, and only the feed the database refuses is left unsaved (its claim runs out and it is
    polled again)."""
    names = [f"n{i}" for i in range(5)]
    add_feeds(engine, *(spec(n, server.route(f"/{n}.xml", static(b"", 304))) for n in names))
    with refusing(engine, "feeds", "NEW.id = 'n2' AND NEW.claim_token IS NULL", "refuse_state"):
        report = {p.feed_id: p for p in poll_due(engine, settings, NOW).feeds}
    assert {n: report[n].status for n in names} == {
        "n0": "not_modified",
        "n1": "not_modified",
        "n2": "error",
        "n3": "not_modified",
        "n4": "not_modified",
    }
    feeds = _feeds(engine)
    assert [n for n in names if feeds[n]["last_polled_at"] == NOW] == ["n0", "n1", "n3", "n4"]
    assert feeds["n2"]["claim_token"] is not None  # still claimed: due again when the lease runs out


@pytest.mark.parametrize("pattern", [r"(a|aa)+$", r"(\w+\s?)+$"])
def test_a_catastrophic_regex_is_cut_short_and_the_items_are_stored(
    engine: Engine, settings: Settings, server: LocalServer, pattern: str
) -> None:
    """A regex that backtracks for ages on some items costs at most its time limits: the items are
    stored (unmatched, counted as skipped) and the other feeds of the batch are stored too."""
    trap = "a" * 5000 + "!"
    items = [Item(f"trap {i}", guid=f"t{i}", summary=trap) for i in range(30)] + [Item("plain aaa", guid="ok")]
    add_feeds(
        engine,
        spec("trap", server.route("/trap.xml", static(rss(*items))), Rule(regex=pattern)),
        spec("good1", server.route("/good1.xml", static(GOOD["good1"]))),
    )
    report = {p.feed_id: p for p in poll_due(engine, settings, NOW).feeds}
    assert report["trap"].status == "ok" and report["trap"].new == 31 and report["trap"].skipped >= 1
    assert report["good1"].new == 3
    with engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(ENTRIES).where(ENTRIES.c.feed_id == "trap")).scalar_one()
            == 31
        )
