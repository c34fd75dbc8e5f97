"""Feeds written in the styles of other projects' test suites (miniflux, lemon24/reader, rss-parser):
what we store of each item is what feedparser reads in the same bytes."""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest

from timeline.feeds.parse import parse_document
from timeline.feeds.text import plain

OTHERS = sorted((Path(__file__).parent / "documents" / "others").iterdir())
URL = "https://feeds.example.net/path/feed.xml"


def _expected(body: bytes) -> list[dict[str, Any]]:
    """Each item as feedparser reads it, by the rules we store it by: a title declared or guessed
    HTML is its text, a plain one is kept as it is (spaces collapsed); the identity is the id (with
    the link, when the document repeats the id with another link), else the link."""
    parsed = feedparser.parse(body, response_headers={"content-location": URL}, sanitize_html=False)
    ids = Counter(e.get("id") for e in parsed.entries if e.get("id"))
    links: dict[str, set[str]] = {}
    for e in parsed.entries:
        links.setdefault(e.get("id", ""), set()).add(e.get("link", ""))
    found = []
    for e in parsed.entries:
        title = e.get("title")
        if title is not None:
            html = e.title_detail.type in ("text/html", "application/xhtml+xml")
            title = plain(title) if html else " ".join(title.split())
        guid = e.get("id")
        identity = guid or e.get("link")
        if guid and ids[guid] > 1 and len(links[guid]) > 1:
            identity = f"{guid} {e.get('link', '')}".rstrip()
        moment = e.get("published_parsed") or e.get("updated_parsed")
        published = datetime.fromtimestamp(calendar.timegm(moment), UTC) if moment else None
        found.append({"identity": identity, "title": title or None, "link": e.get("link"), "published": published})
    return found


@pytest.mark.parametrize("path", OTHERS, ids=[p.name for p in OTHERS])
def test_items_are_stored_as_feedparser_reads_them(path: Path) -> None:
    body = path.read_bytes()
    document = parse_document(body, {}, URL)
    assert document.error is None
    ours = [
        {
            "identity": e.identity if not e.identity.startswith("hash:") else None,
            "title": e.title,
            "link": e.link,
            "published": e.published,
        }
        for e in document.entries
    ]
    assert ours == _expected(body)


def test_the_cases_other_readers_tripped_on() -> None:
    """Plain-text titles with markup-like text; a guid shared by items with other links."""
    rss = parse_document((OTHERS[0].parent / "miniflux-style-rss.xml").read_bytes(), {}, URL).entries
    atom = parse_document((OTHERS[0].parent / "miniflux-style-atom.xml").read_bytes(), {}, URL).entries
    full = parse_document((OTHERS[0].parent / "reader-style-full.rss").read_bytes(), {}, URL).entries
    assert [e.title for e in rss][:4] == [
        "Title with whitespace around it",
        "Some bold title",
        "</example>",
        "AT&T & T-Mobile < 5G >",
    ]
    assert rss[3].link == "https://feeds.example.net/relative/path"
    assert [e.title for e in atom][:3] == ["Use <div> for layout", "html & entities", "An XHTML title"]
    assert atom[0].summary == "Plain &lt;summary&gt; text."
    assert [e.identity for e in full] == [
        "7bd204c6-1655-4c27-aeee-53f933c5395f http://www.example.com/blog/post/1",
        "http://www.example.com/blog/post/2",
        "7bd204c6-1655-4c27-aeee-53f933c5395f http://www.example.com/blog/post/3",
    ]
