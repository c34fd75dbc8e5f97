"""Entries, notices and evidence, on SQLite and PostgreSQL, through real polls of a local server."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import Engine, func, insert, select

from alerts.notices import NOTICES
from tests.feeds.builders import Item, add_feeds, rss, spec
from tests.feeds.conftest import NOW
from tests.feeds.server import LocalServer
from timeline.feeds.decide import FeedState
from timeline.feeds.ingest import ENTRIES, evidence_counts, evidence_for
from timeline.feeds.match import Rule
from timeline.feeds.poll import poll_due
from timeline.feeds.store import (
    _ROW_COLUMNS,
    FEEDS,
    LostClaim,
    claim_due,
    owned_claims,
    save_state,
    save_states,
    sync_feeds,
)
from timeline.models import Milestone
from timeline.settings import Settings

MILESTONES = Milestone.__table__  # type: ignore[attr-defined]
RULE = Rule(any=("anthropic",), all=("centre* de donnees",), none=("crypto",))


class Document:
    """A feed whose items the test changes between polls."""

    def __init__(self, *items: Item) -> None:
        self.items = list(items)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=rss(*self.items), content_type="application/rss+xml")


def _milestone(mid: str, tags: list[str], archived: bool = False) -> dict[str, object]:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "id": mid,
        "title": mid,
        "opens_at": at,
        "due_at": at,
        "status": "planned",
        "tags": tags,
        "attributes": {},
        "remind": [],
        "grace_seconds": 0,
        "origin": "config",
        "revision": 1,
        "timezone": "UTC",
        "created_at": at,
        "updated_at": at,
        "archived_at": at if archived else None,
    }


def _notices(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(NOTICES).order_by(NOTICES.c.id))]


def test_backlog_edits_matches_notices_and_evidence(engine: Engine, settings: Settings, server: LocalServer) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(MILESTONES),
            [
                _milestone("m-tagged", ["anthropic"]),
                _milestone("m-other", ["x"]),
                _milestone("m-old", ["anthropic"], True),
            ],
        )
    doc = Document(
        Item("Anthropic : un CENTRE DE DONNÉES au Texas", guid="old-1", summary="<p>Backlog</p>"),
        Item("Anthropic and crypto centres de données", guid="old-2"),
    )
    add_feeds(engine, spec("news", server.route("/feed.xml", doc), RULE, milestones=("m-named",), tags=("anthropic",)))

    first = poll_due(engine, settings, NOW).feeds[0]
    assert (first.new, first.matched, first.notices) == (2, 1, ())  # the backlog is recorded, not notified

    doc.items.insert(
        0, Item("Anthropic ouvre des centres de données", link="http://example.com/new", summary="x" * 5000)
    )
    doc.items.insert(0, Item("Unrelated", guid="new-2"))
    second = poll_due(engine, settings, NOW + timedelta(hours=1)).feeds[0]
    assert (second.new, second.updated, second.matched) == (2, 0, 1)
    assert len(second.notices) == 1 and second.notices[0].startswith("feed.item_matched:news:")

    notice = _notices(engine)[0]
    data = notice["payload"]["data"]  # type: ignore[index]
    assert data["title"] == "Anthropic ouvre des centres de données"
    assert data["link"] == "http://example.com/new"
    assert data["feed"] == {"id": "news", "name": "News", "url": server.url("/feed.xml")}
    assert data["rule"]["any"] == "anthropic" and data["rule"]["all"] == ["centre* de donnees"]
    assert data["milestones"] == ["m-named", "m-tagged"]
    assert len(data["summary"]) <= 500 and data["update"] is False
    assert notice["subjects"] == ["m-named", "m-tagged"] and notice["tags"] == ["anthropic"]

    # An edited entry (same guid, new text) is updated in place, and notifies only with notify_updates.
    doc.items[-2] = Item("Anthropic : un CENTRE DE DONNÉES au Texas, mis à jour", guid="old-1")
    third = poll_due(engine, settings, NOW + timedelta(hours=2)).feeds[0]
    assert (third.new, third.updated, third.notices) == (0, 1, ())
    with engine.begin() as conn:
        sync_feeds(
            conn,
            [
                spec(
                    "news",
                    server.url("/feed.xml"),
                    RULE,
                    milestones=("m-named",),
                    tags=("anthropic",),
                    notify_updates=True,
                )
            ],
            NOW,
        )
    doc.items[-2] = Item("Anthropic : un CENTRE DE DONNÉES au Texas, version 3", guid="old-1")
    fourth = poll_due(engine, settings, NOW + timedelta(hours=3), force=True).feeds[0]
    assert fourth.updated == 1 and len(fourth.notices) == 1 and fourth.notices[0].count(":") == 3

    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ENTRIES)).scalar_one() == 4
        edited = conn.execute(select(ENTRIES).where(ENTRIES.c.identity == "old-1")).one()
        assert edited.title.endswith("version 3") and edited.first_seen_at == NOW
        assert edited.last_seen_at == NOW + timedelta(hours=3) and edited.updated_at == NOW + timedelta(hours=3)
        long = conn.execute(select(ENTRIES).where(ENTRIES.c.identity == "http://example.com/new")).one()
        assert len(long.summary) < 2100
        found = evidence_for(conn, ["m-named", "m-tagged", "m-other", "m-old"])
    assert found["m-other"] == [] and found["m-old"] == []
    titles = [e.title for e in found["m-tagged"]]
    assert titles[0] == "Anthropic ouvre des centres de données"
    assert "Anthropic : un CENTRE DE DONNÉES au Texas, version 3" in titles  # backlog matches are evidence too
    assert [e.title for e in found["m-named"]] == titles
    assert found["m-named"][0].feed_name == "News" and found["m-named"][0].rule["text"].startswith("any: anthropic")


def test_notify_backlog_and_no_rule(engine: Engine, settings: Settings, server: LocalServer) -> None:
    doc = Document(Item("One", guid="1"), Item("Two", guid="2"))
    add_feeds(engine, spec("all", server.route("/feed.xml", doc), None, notify_backlog=True))
    poll = poll_due(engine, settings, NOW).feeds[0]
    assert (poll.new, poll.matched, len(poll.notices)) == (2, 2, 2)
    assert [n["payload"]["data"]["rule"]["text"] for n in _notices(engine)] == ["every item", "every item"]  # type: ignore[index]


def test_identity_falls_back_to_link_then_content_hash(engine: Engine, settings: Settings, server: LocalServer) -> None:
    doc = Document(
        Item("Same guid", guid="g"),
        Item("Same guid repeated in the document", guid="g"),
        Item("By link", link="http://example.com/a"),
        Item("No guid, no link", summary="s1"),
        Item("No guid, no link", summary="s2"),
    )
    add_feeds(engine, spec("f", server.route("/feed.xml", doc)))
    assert poll_due(engine, settings, NOW).feeds[0].new == 4
    with engine.connect() as conn:
        identities = sorted(conn.execute(select(ENTRIES.c.identity)).scalars())
    assert [i for i in identities if not i.startswith("hash:")] == ["g", "http://example.com/a"]
    assert len(identities) == 4


def test_url_change_starts_a_new_backlog_and_removal_deactivates(
    engine: Engine, settings: Settings, server: LocalServer
) -> None:
    add_feeds(engine, spec("f", server.route("/a.xml", Document(Item("A", guid="a")))))
    poll_due(engine, settings, NOW)
    with engine.begin() as conn:
        changed = sync_feeds(conn, [spec("f", server.route("/b.xml", Document(Item("B", guid="b"))))], NOW)
    assert changed.changed == ["f"]
    assert poll_due(engine, settings, NOW + timedelta(minutes=1)).feeds[0].notices == ()
    with engine.begin() as conn:
        assert sync_feeds(conn, [], NOW).deactivated == ["f"]
        assert conn.execute(select(FEEDS.c.active)).scalar_one() is False
    assert claim_due(engine, NOW + timedelta(days=3), limit=10) == []


def test_claims_are_exclusive(engine: Engine) -> None:
    add_feeds(engine, *(spec(f"f{i}", f"http://example.com/{i}") for i in range(10)))
    first = claim_due(engine, NOW, limit=6)
    second = claim_due(engine, NOW, limit=6)
    assert len(first) == 6 and len(second) == 4
    assert not {f.id for f in first} & {f.id for f in second}
    assert claim_due(engine, NOW, limit=6) == []
    # A lease that ran out makes the feed claimable again, with a new token.
    again = claim_due(engine, NOW + timedelta(hours=1), limit=100)
    assert len(again) == 10 and {f.claim_token for f in again}.isdisjoint({f.claim_token for f in first})


def test_claimed_rows_end_with_the_state_columns_in_feed_state_order() -> None:
    """to_row builds FeedState from the claimed row by position."""
    state = [f.name for f in fields(FeedState)][1:]
    assert list(_ROW_COLUMNS[-len(state) :]) == state


def test_a_late_worker_cannot_overwrite_a_newer_claim(engine: Engine) -> None:
    add_feeds(engine, spec("f", "http://example.com/f"))
    (late,) = claim_due(engine, NOW, limit=1)
    (current,) = claim_due(engine, NOW + timedelta(hours=1), limit=1)  # the first lease ran out
    with engine.begin() as conn:
        assert owned_claims(conn, [late, current]) == {"f"}
        assert owned_claims(conn, [late]) == set()
        with pytest.raises(LostClaim):
            save_state(conn, late, late.state, NOW, backlog_done=False)
        assert save_states(conn, [(late, late.state, False)], NOW) == {"f"}
        assert save_states(conn, [(current, current.state, True)], NOW) == set()
        row = conn.execute(select(FEEDS.c.claim_token, FEEDS.c.backlog_done)).one()
    assert tuple(row) == (None, True)


def test_a_batch_with_a_lost_claim_writes_the_others(engine: Engine) -> None:
    add_feeds(engine, spec("a", "http://example.com/a"), spec("b", "http://example.com/b"))
    first = {f.id: f for f in claim_due(engine, NOW, limit=2)}
    (b_again,) = claim_due(engine, NOW + timedelta(hours=1), limit=1, feed_ids=["b"])
    later = NOW + timedelta(minutes=5)
    updates = [
        (feed, replace(feed.state, status="not_modified", last_polled_at=later, next_poll_at=later), False)
        for feed in first.values()
    ]
    with engine.begin() as conn:
        assert save_states(conn, updates, later) == {"b"}
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(FEEDS))}
    assert (rows["a"].status, rows["a"].last_polled_at, rows["a"].claim_token) == ("not_modified", later, None)
    # b belongs to the newer claim: untouched by the batch.
    assert (rows["b"].status, rows["b"].last_polled_at, rows["b"].claim_token) == ("new", None, b_again.claim_token)


def test_a_url_change_drops_the_poll_in_flight(engine: Engine) -> None:
    """The config moved the feed while it was being polled: the old URL's result must not land."""
    add_feeds(engine, spec("f", "http://example.com/old"))
    (claimed,) = claim_due(engine, NOW, limit=1)
    with engine.begin() as conn:
        sync_feeds(conn, [spec("f", "http://example.com/new")], NOW)
    done = replace(claimed.state, status="ok", etag='"old"', body_hash="old", last_polled_at=NOW)
    with engine.begin() as conn:
        assert save_states(conn, [(claimed, done, True)], NOW) == {"f"}
        row = conn.execute(select(FEEDS)).one()
    assert (row.url, row.etag, row.body_hash, row.backlog_done, row.next_poll_at) == (
        "http://example.com/new",
        None,
        None,
        False,
        NOW,
    )


def test_batched_state_writes_store_every_kind_of_value_exactly(engine: Engine) -> None:
    """A batch goes to the database as one table (JSON on SQLite, arrays on PostgreSQL): strings with
    quotes and non-ASCII text, integers, None over a value, microsecond instants, the backlog flag
    all come back as written, and the config (rule, milestones, tags) as configured."""
    add_feeds(
        engine,
        replace(spec("a", "http://example.com/a"), rule=RULE, milestones=("m1", "m2"), tags=("t",)),
        spec("b", "http://example.com/b"),
    )
    first = {f.id: f for f in claim_due(engine, NOW, limit=2)}
    assert (first["a"].rule, first["a"].milestones, first["a"].tags) == (RULE, ("m1", "m2"), ("t",))
    assert (first["b"].rule, first["b"].milestones, first["b"].tags) == (None, (), ())
    at, due = NOW + timedelta(microseconds=123_457), NOW - timedelta(minutes=1)
    states = {
        "a": replace(
            first["a"].state,
            status="error",
            fetch_url="http://example.com/moved?q='x'",
            etag='W/"é-1"',
            last_modified="Sun, 01 Mar 2026 10:00:00 GMT",
            body_hash="0" * 64,
            consecutive_failures=3,
            last_error='HTTP 500: "naïve" \\ failure',
            last_status_code=500,
            last_polled_at=at,
            failing_since=at - timedelta(days=1),
            failing_notified_at=at,
            next_poll_at=due,
        ),
        "b": replace(first["b"].state, status="not_modified", last_polled_at=at, next_poll_at=due),
    }
    with engine.begin() as conn:
        assert save_states(conn, [(first[i], states[i], i == "a") for i in states], at) == set()
    again = {f.id: f for f in claim_due(engine, NOW, limit=2)}
    for i in states:  # the new claim moved next_poll_at on by its lease; the rest is as written
        assert replace(again[i].state, next_poll_at=states[i].next_poll_at) == states[i]
    assert (again["a"].backlog_done, again["b"].backlog_done) == (True, False)
    cleared = replace(states["a"], etag=None, last_error=None, failing_since=None, next_poll_at=NOW)
    with engine.begin() as conn:
        assert save_states(conn, [(again["a"], cleared, True)], at) == set()
        row = conn.execute(select(FEEDS).where(FEEDS.c.id == "a")).one()
    assert (row.etag, row.last_error, row.failing_since, row.next_poll_at) == (None, None, None, NOW)
    assert row.claim_token is None


def test_evidence_is_all_kept_and_read_a_page_at_a_time(
    engine: Engine, settings: Settings, server: LocalServer
) -> None:
    """A feed that matches many items keeps every match; readers page through each milestone's."""
    items = [
        Item(f"Anthropic item {i}", guid=f"i{i}", published=f"Sun, 01 Mar 2026 {i:02d}:00:00 GMT") for i in range(12)
    ]
    add_feeds(
        engine,
        spec("big", server.route("/big.xml", Document(*items)), Rule(any=("anthropic",)), milestones=("m1", "m2")),
    )
    poll_due(engine, settings, NOW)
    with engine.connect() as conn:
        everything = evidence_for(conn, ["m1", "m2", "none"])
        first = evidence_for(conn, ["m1", "m2", "none"], limit=5)
        third = evidence_for(conn, ["m1", "m2"], limit=5, offset=10)
        counts = evidence_counts(conn, ["m1", "m2", "none"])
    newest_first = [f"Anthropic item {i}" for i in range(11, -1, -1)]
    assert [e.title for e in everything["m1"]] == [e.title for e in everything["m2"]] == newest_first
    assert [e.title for e in first["m1"]] == [e.title for e in first["m2"]] == newest_first[:5]
    assert [e.title for e in third["m2"]] == newest_first[10:]
    assert first["none"] == [] and counts == {"m1": 12, "m2": 12, "none": 0}
