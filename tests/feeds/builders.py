"""Feed documents for tests, built from plain values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from sqlalchemy import Engine

from tests.feeds.conftest import NOW
from timeline.config.feeds import FeedSpec
from timeline.feeds.match import Rule
from timeline.feeds.store import sync_feeds


@dataclass(frozen=True)
class Item:
    title: str
    guid: str | None = None
    link: str | None = None
    summary: str = ""
    published: str = "Sun, 01 Mar 2026 10:00:00 GMT"


def rss(*items: Item, title: str = "Test feed") -> bytes:
    parts = [f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>']
    parts.append("<link>http://example.com/</link><description>d</description>")
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        parts.append(f"<description>{escape(item.summary)}</description>")
        parts.append(f"<pubDate>{item.published}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def spec(feed_id: str, url: str, rule: Rule | None = None, **kwargs: object) -> FeedSpec:
    values: dict[str, object] = {"interval": timedelta(minutes=15), "timeout": timedelta(seconds=5)}
    values.update(kwargs)
    return FeedSpec(id=feed_id, url=url, name=feed_id.title(), rule=rule, **values)  # type: ignore[arg-type]


def add_feeds(engine: Engine, *specs: FeedSpec) -> None:
    with engine.begin() as conn:
        sync_feeds(conn, list(specs), NOW)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
