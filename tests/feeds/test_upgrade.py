"""Entries stored before the identity rules changed (scheme 1): the migration marks them, and the
next polls bring them up to date without announcing a stored item as new or edited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, select, text, update

from alerts.notices import NOTICES
from tests.feeds.builders import Item, add_feeds, rss, spec
from tests.feeds.conftest import NOW
from tests.feeds.server import LocalServer
from tests.feeds.test_ingest import Document
from timeline.db import alembic_config, make_engine
from timeline.feeds.ingest import ENTRIES
from timeline.feeds.items import SCHEME
from timeline.feeds.parse import parse_document
from timeline.feeds.poll import poll_due
from timeline.settings import Settings


def test_the_migration_marks_entries_already_stored_as_scheme_1(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0004")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO feeds (id, url, name, active, interval_seconds, timeout_seconds, max_bytes,"
                    " milestones,"
                    " tags, notify_backlog, notify_updates, next_poll_at, status, consecutive_failures, backlog_done,"
                    " created_at, updated_at) VALUES ('f', 'http://example.com/', 'F', 1, 900, 20, 1000, '[]', '[]',"
                    " 0, 0, '2026-03-01 00:00:00', 'ok', 0, 1, '2026-03-01 00:00:00', '2026-03-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO feed_entries (feed_id, identity_hash, identity, content_hash, first_seen_at,"
                    " last_seen_at) VALUES ('f', 'h', 'g', 'c', '2026-03-01 00:00:00', '2026-03-01 00:00:00')"
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            assert conn.execute(select(ENTRIES.c.identity, ENTRIES.c.scheme)).all() == [("g", 1)]
    finally:
        engine.dispose()


def _notices(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(NOTICES.c.key).order_by(NOTICES.c.id)).scalars())


def _stored(engine: Engine) -> dict[str, tuple[int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(ENTRIES.c.identity, ENTRIES.c.id, ENTRIES.c.scheme))
        return {identity: (row, scheme) for identity, row, scheme in rows}


def test_stored_identities_survive_the_upgrade_and_folded_items_come_back_quietly(
    engine: Engine, settings: Settings, server: LocalServer
) -> None:
    a = Item("Story A", guid="g", link="http://example.com/a")
    anonymous = Item("No guid, no link", summary="<p>Text only</p>")
    doc = Document(a, anonymous, Item("Plain", guid="p"))
    add_feeds(engine, spec("f", server.route("/feed.xml", doc), None, notify_updates=True))
    poll_due(engine, settings, NOW)
    before = _stored(engine)
    assert set(before) >= {"g", "p"}
    # As the first scheme left them: older content hashes, and the anonymous item under its older hash.
    with engine.begin() as conn:
        conn.execute(update(ENTRIES).values(scheme=1, content_hash="hashed the old way"))
        anonymous_row = next(row for identity, (row, _) in before.items() if identity.startswith("hash:"))
        conn.execute(
            text("UPDATE feed_entries SET identity_hash = :old WHERE id = :row"),
            {"old": _alias(doc), "row": anonymous_row},
        )

    # The feed now repeats guid g with another link: under the first scheme B was folded into A.
    doc.items.insert(0, Item("Story B", guid="g", link="http://example.com/b"))
    upgrade_poll = poll_due(engine, settings, NOW + timedelta(hours=1)).feeds[0]
    assert (upgrade_poll.new, upgrade_poll.updated, upgrade_poll.notices) == (1, 0, ())
    after = _stored(engine)
    assert after["g http://example.com/a"] == (before["g"][0], SCHEME)  # the same row, brought up to date
    assert after["p"] == (before["p"][0], SCHEME)
    assert {scheme for _, scheme in after.values()} == {SCHEME} and len(after) == 4
    assert _notices(engine) == []

    # From now on a new item that reuses the guid is news, and an edit is an edit.
    doc.items.insert(0, Item("Story C", guid="g", link="http://example.com/c"))
    doc.items[-1] = Item("Plain, edited", guid="p")
    later = poll_due(engine, settings, NOW + timedelta(hours=2)).feeds[0]
    assert (later.new, later.updated, len(later.notices)) == (1, 1, 2)


def _alias(doc: Document) -> str:
    """The hash the first scheme gave the anonymous item (its alias under the current one)."""
    entry = next(e for e in parse_document(rss(*doc.items), {}, "http://x/").entries if e.identity.startswith("hash:"))
    assert entry.alias_hash is not None
    return entry.alias_hash
