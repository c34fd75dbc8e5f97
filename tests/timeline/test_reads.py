"""The reads the HTTP routes call (timeline.store, timeline.views), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert

from alerts.notices import NewNotice, publish
from timeline.feeds.models import Feed, FeedEntry, FeedEvidence
from timeline.store import last_changed, milestone_row, milestone_rows
from timeline.sync import sync_config
from timeline.views import evidence_page, milestone_detail, newest_evidence, notice_rows

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
CONFIG = """\
milestones:
  - {id: span, title: Span, starts: "2025", ends: "2027", status: in_progress, tags: [a, b], subject: S}
  - {id: early, title: Early, when: 2025-H2, tags: [a]}
  - {id: late, title: Late, when: 2026-Q3, status: done}
"""


@pytest.fixture
def synced(engine: Engine, tmp_path: Path) -> Engine:
    path = tmp_path / "milestones.yaml"
    path.write_text(CONFIG)
    sync_config(engine, path, NOW)
    return engine


def _ids(rows: list[object]) -> list[str]:
    return [r.id for r in rows]  # type: ignore[attr-defined]


def test_milestone_rows_are_in_time_order_and_filtered(synced: Engine, tmp_path: Path) -> None:
    with synced.connect() as conn:
        assert _ids(milestone_rows(conn)) == ["span", "early", "late"]
        assert _ids(milestone_rows(conn, tag="a")) == ["span", "early"]
        assert _ids(milestone_rows(conn, status="done")) == ["late"]
        assert _ids(milestone_rows(conn, subject="S")) == ["span"]
        assert _ids(milestone_rows(conn, start=datetime(2026, 1, 1, tzinfo=UTC))) == ["span", "late"]
        assert _ids(milestone_rows(conn, end=datetime(2025, 7, 1, tzinfo=UTC))) == ["span"]
        assert milestone_row(conn, "late").title == "Late"
        assert milestone_row(conn, "nope") is None
        assert last_changed(conn) == NOW
    path = tmp_path / "milestones.yaml"
    path.write_text(CONFIG.replace("  - {id: late, title: Late, when: 2026-Q3, status: done}\n", ""))
    sync_config(synced, path, NOW + timedelta(hours=1))
    with synced.connect() as conn:
        assert _ids(milestone_rows(conn)) == ["span", "early"]
        assert _ids(milestone_rows(conn, include_archived=True)) == ["span", "early", "late"]
        assert milestone_row(conn, "late").archived_at == NOW + timedelta(hours=1)
        # Archiving is a change: a calendar that listed it must be fetched again.
        assert last_changed(conn) == NOW + timedelta(hours=1)


def test_last_changed_of_no_milestone_is_none(engine: Engine) -> None:
    with engine.connect() as conn:
        assert last_changed(conn) is None


def _evidence(engine: Engine, milestone_id: str, count: int, *, feed: str = "f") -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(Feed.__table__).values(
                id=feed,
                url=f"https://example.org/{feed}",
                name=f"Feed {feed}",
                active=True,
                interval_seconds=900,
                timeout_seconds=20,
                max_bytes=1000,
                milestones=[milestone_id],
                tags=[],
                notify_backlog=False,
                notify_updates=False,
                next_poll_at=NOW,
                status="ok",
                consecutive_failures=0,
                backlog_done=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        for n in range(count):
            entry = conn.execute(
                insert(FeedEntry.__table__)
                .values(
                    feed_id=feed,
                    identity_hash=f"{feed}{n}",
                    identity=f"{feed}{n}",
                    title=f"{feed} item {n}",
                    link=f"https://example.org/{feed}/{n}",
                    published_at=NOW - timedelta(days=count - n),
                    content_hash=f"c{n}",
                    first_seen_at=NOW,
                    last_seen_at=NOW,
                )
                .returning(FeedEntry.__table__.c.id)
            ).scalar_one()
            conn.execute(
                insert(FeedEvidence.__table__).values(
                    entry_id=entry,
                    milestone_id=milestone_id,
                    feed_id=feed,
                    rule={},
                    matched_at=NOW + timedelta(minutes=n),
                )
            )


def test_evidence_is_paged_newest_first_with_its_total(synced: Engine) -> None:
    _evidence(synced, "span", 12)
    with synced.connect() as conn:
        first = evidence_page(conn, "span", limit=5)
        second = evidence_page(conn, "span", limit=5, offset=5)
        last = evidence_page(conn, "span", limit=5, offset=10)
        none = evidence_page(conn, "early", limit=5)
    assert first.total == second.total == last.total == 12
    titles = [e["title"] for page in (first, second, last) for e in page.items]
    assert titles == [f"f item {n}" for n in range(11, -1, -1)]
    assert first.items[0]["feed"] == "Feed f"
    assert first.items[0]["matched_at"] == "2026-01-15T12:11:00Z"
    assert (none.items, none.total) == ([], 0)


def test_newest_evidence_caps_each_milestone(synced: Engine) -> None:
    _evidence(synced, "span", 30, feed="f")
    _evidence(synced, "early", 2, feed="g")
    with synced.connect() as conn:
        found = newest_evidence(conn, ["span", "early", "late", "span"], per_milestone=3)
        detail = milestone_detail(conn, milestone_row(conn, "span"), NOW, evidence_limit=4)
    assert set(found) == {"span", "early", "late"}
    assert [e["title"] for e in found["span"].items] == ["f item 29", "f item 28", "f item 27"]
    assert found["span"].total == 30
    assert [e["title"] for e in found["early"].items] == ["g item 1", "g item 0"]
    assert (found["late"].items, found["late"].total) == ([], 0)
    assert len(detail["evidence"]) == 4 and detail["evidence_total"] == 30
    assert [c["kind"] for c in detail["changes"]] == ["added"]


def test_notice_rows_filter_and_page(synced: Engine) -> None:
    with synced.begin() as conn:
        publish(conn, [NewNotice("test.ping", f"p:{n}", NOW, {}, subjects=("span",)) for n in range(4)], NOW)
        publish(conn, [NewNotice("milestone.due", "d:early", NOW, {}, subjects=("early",))], NOW)
    with synced.connect() as conn:
        pings = notice_rows(conn, type_="test.ping")
        assert [r.key for r in pings] == ["p:3", "p:2", "p:1", "p:0"]
        assert [r.key for r in notice_rows(conn, type_="test.ping", before_id=pings[1].id, limit=1)] == ["p:1"]
        assert {r.key for r in notice_rows(conn, subject="early")} == {"d:early"}
        assert len(notice_rows(conn, subject="span")) == 4
        assert notice_rows(conn, since=NOW + timedelta(seconds=1)) == []
