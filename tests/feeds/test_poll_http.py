"""Polling against a real HTTP server on 127.0.0.1: every response a feed can give."""

from __future__ import annotations

import asyncio
import gc
import gzip
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import Engine, select

from alerts.guard import AddressPolicy
from tests.feeds.builders import Item, add_feeds, rss, spec
from tests.feeds.conftest import NOW, make_settings
from tests.feeds.server import LocalServer, static, tarpit
from timeline.feeds import poll
from timeline.feeds.decide import MAX_DELAY
from timeline.feeds.fetch import Fetcher, FetchResult
from timeline.feeds.health import feed_health
from timeline.feeds.poll import poll_due
from timeline.feeds.store import FEEDS, claim_due
from timeline.settings import Settings

FEED = rss(Item("Anthropic invests", guid="a1"), Item("Other news", guid="a2"))


def _state(engine: Engine, feed_id: str) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(select(FEEDS).where(FEEDS.c.id == feed_id)).one()._mapping)


def test_conditional_get_round_trip(db: Engine, settings: Settings, server: LocalServer) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(body=FEED, headers={"ETag": '"v1"', "Last-Modified": "Sun, 01 Mar 2026 10:00:00 GMT"})

    add_feeds(db, spec("f", server.route("/feed.xml", handle)))
    first = poll_due(db, settings, NOW)
    assert [(p.status, p.new) for p in first.feeds] == [("ok", 2)]
    second = poll_due(db, settings, NOW + timedelta(hours=1))
    assert [(p.status, p.http_status, p.error) for p in second.feeds] == [("not_modified", 304, None)]
    sent = server.hits_of("/feed.xml")[-1].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Sun, 01 Mar 2026 10:00:00 GMT"
    state = _state(db, "f")
    assert state["etag"] == '"v1"' and state["consecutive_failures"] == 0
    assert state["last_success_at"] == NOW + timedelta(hours=1)
    interval = timedelta(minutes=15)
    assert NOW + timedelta(hours=1) + interval <= state["next_poll_at"] <= NOW + timedelta(hours=1) + interval * 1.1


def test_not_due_feeds_are_left_alone_and_force_polls_them(db: Engine, settings: Settings, server: LocalServer) -> None:
    add_feeds(db, spec("f", server.route("/feed.xml", static(FEED))))
    poll_due(db, settings, NOW)
    assert poll_due(db, settings, NOW + timedelta(minutes=1)).feeds == []
    forced = poll_due(db, settings, NOW + timedelta(minutes=1), feed_ids=["f"], force=True)
    assert [p.feed_id for p in forced.feeds] == ["f"]
    assert len(server.hits_of("/feed.xml")) == 2


def test_unchanged_body_is_not_parsed_again(db: Engine, settings: Settings, server: LocalServer) -> None:
    add_feeds(db, spec("f", server.route("/feed.xml", static(FEED))))
    assert poll_due(db, settings, NOW).feeds[0].parse_seconds > 0
    again = poll_due(db, settings, NOW + timedelta(hours=1)).feeds[0]
    assert (again.status, again.parse_seconds, again.new) == ("not_modified", 0.0, 0)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("120", timedelta(minutes=15)),
        ("7200", timedelta(hours=2)),
        ("Sun, 01 Mar 2026 15:00:00 GMT", timedelta(hours=3)),
    ],
)
def test_429_honours_retry_after(
    db: Engine, settings: Settings, server: LocalServer, retry_after: str, expected: timedelta
) -> None:
    add_feeds(db, spec("f", server.route("/feed.xml", static(b"slow down", 429, {"Retry-After": retry_after}))))
    poll = poll_due(db, settings, NOW).feeds[0]
    assert (poll.status, poll.http_status, poll.error) == ("error", 429, "HTTP 429")
    state = _state(db, "f")
    # Never before the server's time, never before the interval; jitter only on the interval.
    assert expected <= state["next_poll_at"] - NOW <= max(expected, timedelta(minutes=15) * 1.1)


def test_503_retry_after_is_capped_at_a_day(db: Engine, settings: Settings, server: LocalServer) -> None:
    add_feeds(db, spec("f", server.route("/feed.xml", static(b"", 503, {"Retry-After": str(30 * 86400)}))))
    poll_due(db, settings, NOW)
    assert _state(db, "f")["next_poll_at"] - NOW == MAX_DELAY


def test_500_backs_off_exponentially_and_recovers(db: Engine, tmp_path: Path, server: LocalServer) -> None:
    settings = make_settings(tmp_path, feed_alert_after="1h")
    broken = {"on": True}

    async def handle(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="boom") if broken["on"] else web.Response(body=FEED)

    add_feeds(db, spec("f", server.route("/feed.xml", handle)))
    now, delays, notices = NOW, [], []
    for _ in range(9):
        report = poll_due(db, settings, now)
        notices += report.notices
        state = _state(db, "f")
        delays.append(state["next_poll_at"] - now)
        now = state["next_poll_at"]
    base = timedelta(minutes=15)
    for failures, delay in enumerate(delays, start=1):
        expected = min(base * 2 ** (failures - 1), MAX_DELAY)
        assert expected <= delay <= expected * 1.1
    assert delays[-1] <= MAX_DELAY * 1.1
    assert state["status"] == "error" and state["consecutive_failures"] == 9
    assert state["last_error"] == "HTTP 500"
    assert [n.split(":")[0] for n in notices] == ["feed.failing"]
    with db.connect() as conn:
        health = feed_health(conn)[0]
    assert (health.status, health.consecutive_failures, health.last_error) == ("error", 9, "HTTP 500")
    broken["on"] = False
    recovered = poll_due(db, settings, now)
    assert [n.split(":")[0] for n in recovered.notices] == ["feed.recovered"]
    assert _state(db, "f")["consecutive_failures"] == 0
    # A later failure episode gets its own failing notice.
    broken["on"] = True
    later = now + timedelta(days=2)
    poll_due(db, settings, later)
    again = poll_due(db, settings, later + timedelta(hours=2), force=True)
    assert [n.split(":")[0] for n in again.notices] == ["feed.failing"]


def test_redirect_chain_is_followed_and_permanent_ones_recorded(
    db: Engine, settings: Settings, server: LocalServer
) -> None:
    server.route("/a", static(status=301, headers={"Location": "/b"}))
    server.route("/b", static(status=308, headers={"Location": server.url("/c")}))
    server.route("/c", static(FEED))
    add_feeds(db, spec("f", server.url("/a")))
    assert poll_due(db, settings, NOW).feeds[0].status == "ok"
    assert _state(db, "f")["fetch_url"] == server.url("/c")
    poll_due(db, settings, NOW + timedelta(hours=1))
    assert len(server.hits_of("/a")) == 1 and len(server.hits_of("/c")) == 2


def test_temporary_redirect_is_not_recorded(db: Engine, settings: Settings, server: LocalServer) -> None:
    server.route("/a", static(status=301, headers={"Location": "/b"}))
    server.route("/b", static(status=302, headers={"Location": "/c"}))
    server.route("/c", static(FEED))
    add_feeds(db, spec("f", server.url("/a")))
    assert poll_due(db, settings, NOW).feeds[0].status == "ok"
    assert _state(db, "f")["fetch_url"] is None


def test_redirect_loop_and_long_chain_are_errors(db: Engine, settings: Settings, server: LocalServer) -> None:
    server.route("/loop1", static(status=302, headers={"Location": "/loop2"}))
    server.route("/loop2", static(status=302, headers={"Location": "/loop1"}))
    for i in range(7):
        server.route(f"/hop{i}", static(status=307, headers={"Location": f"/hop{i + 1}"}))
    server.route("/hop7", static(FEED))
    add_feeds(db, spec("loop", server.url("/loop1")), spec("long", server.url("/hop0")))
    polls = {p.feed_id: p for p in poll_due(db, settings, NOW).feeds}
    assert polls["loop"].status == "error" and "more than 5 redirects" in (polls["loop"].error or "")
    assert polls["long"].status == "error" and "more than 5 redirects" in (polls["long"].error or "")
    assert len(server.hits_of("/loop1")) + len(server.hits_of("/loop2")) == 6


def test_tarpit_times_out_without_delaying_other_feeds(db: Engine, settings: Settings, server: LocalServer) -> None:
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        while True:  # one byte every 100 ms: never a read timeout, only the whole-fetch deadline
            await response.write(b" ")
            await asyncio.sleep(0.1)

    fast = server.route("/fast.xml", static(FEED))
    with tarpit() as silent:
        add_feeds(
            db,
            spec("silent", silent, timeout=timedelta(seconds=1)),
            spec("drip", server.route("/drip.xml", drip), timeout=timedelta(seconds=1)),
            spec("fast", fast),
        )
        started = time.perf_counter()
        polls = {p.feed_id: p for p in poll_due(db, settings, NOW).feeds}
        elapsed = time.perf_counter() - started
    assert polls["silent"].error == "timed out after 1s"
    assert polls["drip"].error == "timed out after 1s"
    assert polls["fast"].status == "ok" and polls["fast"].fetch_seconds < 1.0
    assert elapsed < 3


def test_body_over_the_cap_is_abandoned(db: Engine, settings: Settings, server: LocalServer) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # no Content-Length: the cap must act while streaming
        await response.prepare(request)
        for _ in range(10_000):
            await response.write(b"x" * 65536)
        return response

    big = FEED + b" " * 5000
    add_feeds(
        db,
        spec("declared", server.route("/declared.xml", static(big)), max_bytes=4096),
        spec("streamed", server.route("/endless.xml", endless), max_bytes=100_000),
    )
    polls = {p.feed_id: p for p in poll_due(db, settings, NOW).feeds}
    assert "over the cap of 4096 bytes" in (polls["declared"].error or "")
    assert "over the cap of 100000 bytes" in (polls["streamed"].error or "")


def test_gzip_wrong_content_type_and_charset(db: Engine, settings: Settings, server: LocalServer) -> None:
    latin = rss(Item("Centre de données", guid="x")).replace(b'encoding="utf-8"', b'encoding="iso-8859-1"')
    latin = latin.replace("données".encode(), "données".encode("latin-1"))
    server.route("/gz", static(gzip.compress(FEED), headers={"Content-Encoding": "gzip"}))
    server.route("/plain", static(FEED, headers={"Content-Type": "text/plain; charset=utf-8"}))
    server.route("/latin", static(latin, headers={"Content-Type": "application/rss+xml"}))
    add_feeds(
        db, spec("gz", server.url("/gz")), spec("plain", server.url("/plain")), spec("latin", server.url("/latin"))
    )
    polls = {p.feed_id: p for p in poll_due(db, settings, NOW).feeds}
    assert {k: (p.status, p.new) for k, p in polls.items()} == {"gz": ("ok", 2), "plain": ("ok", 2), "latin": ("ok", 1)}
    assert "gzip" in server.hits_of("/gz")[0].headers["Accept-Encoding"]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b"<!doctype html><html><head><title>Home</title></head><body><p>Hi</p></body></html>",
            "text/html",
            "not a feed",
        ),
        (b"", "application/rss+xml", "an empty body"),
        (b"\x00\x01\x02garbage\xff\xfe", "application/octet-stream", "not a feed"),
    ],
)
def test_not_a_feed_is_an_error(
    db: Engine, settings: Settings, server: LocalServer, body: bytes, content_type: str, message: str
) -> None:
    add_feeds(db, spec("f", server.route("/feed.xml", static(body, headers={"Content-Type": content_type}))))
    poll = poll_due(db, settings, NOW).feeds[0]
    assert poll.status == "error" and (poll.error or "").startswith(message)
    assert _state(db, "f")["body_hash"] is None


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title>'
    + b"<item><title>&lol9;</title><guid>g</guid><description>&lol9;</description></item></channel></rss>"
)


def test_billion_laughs_is_harmless_and_fast(db: Engine, settings: Settings, server: LocalServer) -> None:
    add_feeds(db, spec("f", server.route("/lol.xml", static(BILLION_LAUGHS))))
    started = time.perf_counter()
    poll = poll_due(db, settings, NOW).feeds[0]
    assert time.perf_counter() - started < 2
    assert poll.status == "ok" and poll.new == 1
    assert poll.parse_seconds < 0.5
    with db.connect() as conn:
        from timeline.feeds.ingest import ENTRIES

        title = conn.execute(select(ENTRIES.c.title)).scalar_one()
    assert len(title or "") < 100


@pytest.mark.parametrize(
    ("declared", "raw"),
    [
        ("utf-8", "Données à Paris".encode() + b"\xff\xfe bad \xc3"),
        ("windows-1252", "Données".encode("cp1252") + b"\x81\x8d"),
        ("shift_jis", "データセンター".encode("shift_jis") + b"\x81"),
        ("utf-16", "Données".encode("utf-16-le")),
        ("koi8-r", "центр".encode("koi8-r") + b"\xff"),
    ],
)
def test_invalid_bytes_in_several_encodings(
    db: Engine, settings: Settings, server: LocalServer, declared: str, raw: bytes
) -> None:
    body = (
        f'<?xml version="1.0" encoding="{declared}"?><rss version="2.0"><channel><title>t</title><item><title>'.encode()
        + raw
        + b"</title><guid>g1</guid></item></channel></rss>"
    )
    add_feeds(db, spec("f", server.route("/enc.xml", static(body, headers={"Content-Type": "text/xml"}))))
    poll = poll_due(db, settings, NOW).feeds[0]
    assert poll.status in ("ok", "error")
    assert _state(db, "f")["consecutive_failures"] == (1 if poll.status == "error" else 0)


def test_loopback_is_refused_unless_allowed(db: Engine, tmp_path: Path, server: LocalServer) -> None:
    strict = make_settings(tmp_path, feed_allow_private=False)
    add_feeds(db, spec("f", server.route("/feed.xml", static(FEED))), spec("named", "http://localhost:1/feed.xml"))
    polls = {p.feed_id: p for p in poll_due(db, strict, NOW).feeds}
    assert polls["f"].status == "error"
    assert "127.0.0.1 is a loopback address" in (polls["f"].error or "")
    assert "TIMELINE_FEED_ALLOW_PRIVATE" in (polls["f"].error or "")
    assert "loopback address" in (polls["named"].error or "")
    assert server.hits == []
    assert "loopback" in (_state(db, "f")["last_error"] or "")


def test_each_redirect_hop_goes_through_the_guard(server: LocalServer) -> None:
    """With only 127.0.0.1 allowed, a redirect to 127.0.0.2 is refused before any packet is sent."""
    server.route("/hop", static(status=302, headers={"Location": "http://127.0.0.2:9/feed.xml"}))
    policy = AddressPolicy.from_settings(False, ["127.0.0.1/32"])

    async def fetch() -> FetchResult:
        async with Fetcher(policy) as fetcher:
            return await fetcher.fetch(server.url("/hop"), timeout=5)

    result = asyncio.run(fetch())
    assert result.status is None and "127.0.0.2 is a loopback address" in (result.error or "")
    assert len(server.hits_of("/hop")) == 1


def test_per_host_limit_and_concurrency(db: Engine, tmp_path: Path, server: LocalServer) -> None:
    settings = make_settings(tmp_path, feed_concurrency=4, feed_per_host=2)
    active = {"now": 0, "max": 0}

    async def slow(request: web.Request) -> web.StreamResponse:
        active["now"] += 1
        active["max"] = max(active["max"], active["now"])
        await asyncio.sleep(0.05)
        active["now"] -= 1
        return web.Response(body=FEED)

    server.route("/slow.xml", slow)
    add_feeds(db, *(spec(f"f{i}", server.url(f"/slow.xml?n={i}")) for i in range(8)))
    report = poll_due(db, settings, NOW)
    assert len(report.feeds) == 8 and not report.errors
    assert active["max"] == 2


def test_a_poll_cycle_collects_only_its_own_garbage(db: Engine, settings: Settings, server: LocalServer) -> None:
    """The heap that existed before the cycle is frozen while it runs (see alerts.gc_freeze)."""
    add_feeds(db, spec("f", server.route("/feed.xml", static(FEED))))
    frozen: list[int] = []
    poll_due(db, settings, NOW, progress=lambda _: frozen.append(gc.get_freeze_count()))
    assert frozen and frozen[0] > 0
    assert gc.get_freeze_count() == 0


def test_a_stop_hands_back_the_feeds_not_polled_in_time(
    engine: Engine, tmp_path: Path, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shutting down mid-cycle: what finished is stored, fetches still hanging are cancelled after
    the grace, and their feeds (and those never started) are claimable again at once."""
    monkeypatch.setattr(poll, "STOP_GRACE", 0.3)
    settings = make_settings(tmp_path, feed_concurrency=2, feed_per_host=2)
    stop = threading.Event()
    with tarpit() as silent:
        add_feeds(
            engine,
            spec("a-fast", server.route("/feed.xml", static(FEED))),
            *(spec(f"{c}-silent", silent, timeout=timedelta(seconds=60)) for c in "bcd"),
        )
        started = time.perf_counter()
        report = poll_due(engine, settings, NOW, stop=stop, progress=lambda _: stop.set())
        elapsed = time.perf_counter() - started
    assert [(p.feed_id, p.status) for p in report.feeds] == [("a-fast", "ok")]
    assert elapsed < 10  # not the silent feeds' 60 s timeout
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(FEEDS))}
    assert rows["a-fast"].claim_token is None and rows["a-fast"].next_poll_at > NOW
    for feed_id in ("b-silent", "c-silent", "d-silent"):
        row = rows[feed_id]
        assert (row.claim_token, row.next_poll_at, row.status, row.last_polled_at) == (None, NOW, "new", None)
    assert sorted(f.id for f in claim_due(engine, NOW, limit=10)) == ["b-silent", "c-silent", "d-silent"]
