"""Feeds as the web shows them: health, and matched items as evidence on milestones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from tests.web.conftest import NOW
from timeline.feeds.models import Feed, FeedEntry, FeedEvidence


@pytest.fixture
def evidence(engine):
    with engine.begin() as conn:
        conn.execute(
            insert(Feed.__table__).values(
                id="dc-news",
                url="https://example.org/feed.xml",
                name="DC news",
                active=True,
                interval_seconds=900,
                timeout_seconds=20,
                max_bytes=10_000_000,
                milestones=["anthropic-us-construction"],
                tags=[],
                notify_backlog=False,
                notify_updates=False,
                next_poll_at=NOW + timedelta(minutes=15),
                status="error",
                consecutive_failures=2,
                last_error="HTTP 503",
                failing_since=NOW - timedelta(hours=1),
                backlog_done=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        for n, (title, link) in enumerate(
            [("Anthropic breaks ground in Texas", "https://example.org/a"), ("<i>Sneaky</i>", "javascript:alert(1)")]
        ):
            conn.execute(
                insert(FeedEntry.__table__).values(
                    id=n + 1,
                    feed_id="dc-news",
                    identity_hash=f"h{n}",
                    identity=link,
                    title=title,
                    link=link,
                    published_at=NOW - timedelta(days=10 - n),
                    content_hash=f"c{n}",
                    first_seen_at=NOW,
                    last_seen_at=NOW,
                )
            )
            conn.execute(
                insert(FeedEvidence.__table__).values(
                    entry_id=n + 1,
                    milestone_id="anthropic-us-construction",
                    feed_id="dc-news",
                    rule={"any": ["Anthropic"]},
                    matched_at=NOW + timedelta(minutes=n),
                )
            )


def test_feeds_report_their_health(client, evidence):
    feeds = client.get("/api/feeds").json()
    assert [f["id"] for f in feeds] == ["dc-news"]
    assert feeds[0]["status"] == "error"
    assert feeds[0]["last_error"] == "HTTP 503"
    assert feeds[0]["failing_since"] == "2026-01-15T11:00:00Z"
    assert feeds[0]["entries"] == 2


def test_evidence_on_the_milestone_the_timeline_and_the_page(client, evidence):
    detail = client.get("/api/milestones/anthropic-us-construction").json()
    assert [e["title"] for e in detail["evidence"]] == ["<i>Sneaky</i>", "Anthropic breaks ground in Texas"]
    assert detail["evidence"][1]["feed"] == "DC news"
    assert detail["evidence"][1]["published"] == "2026-01-05T12:00:00Z"

    entries = client.get("/api/timeline").json()["entries"]
    assert [e["kind"] for e in entries] == ["milestone", "milestone", "feed_item", "feed_item", "milestone"]
    assert entries[2]["milestones"] == ["anthropic-us-construction"]
    assert entries[2]["item"]["link"] == "https://example.org/a"

    html = client.get("/").text
    assert '<a href="https://example.org/a" rel="noopener noreferrer nofollow">Anthropic breaks ground' in html
    assert "javascript:" not in html
    assert "&lt;i&gt;Sneaky&lt;/i&gt;" in html
