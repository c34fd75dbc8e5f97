"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) read into `RawItem`s.

The standard library's JSON parser does the reading; this module maps the spec's fields. It is
ours rather than feedparser-rs's JSON support because that one drops an `id` written as a number
(the spec says readers must coerce it to a string: without it, the item's identity would fall back
to its link), calls a plain-text `title` HTML, and ignores `external_url`; feedparser does not read
JSON Feed at all. Nothing here raises: a document that is not a JSON Feed is a `JsonFeed` with an
`error`, and an item that is not an object is skipped with its reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from timeline.feeds.items import RawItem, Skipped
from timeline.feeds.text import clean

VERSIONS = {"https://jsonfeed.org/version/1": "json10", "https://jsonfeed.org/version/1.1": "json11"}


@dataclass(frozen=True)
class JsonFeed:
    items: list[RawItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    title: str | None = None
    version: str | None = None
    error: str | None = None
    language: str | None = None


def looks_like_json(body: bytes) -> bool:
    """Whether `body` starts (after a byte order mark and white space) with `{`."""
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return _text(value)


def _date(value: Any) -> datetime | None:
    """An RFC 3339 date (`2026-03-01T10:00:00Z`, `...+01:00`) as aware UTC; None if unreadable."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _item(data: dict[str, Any]) -> RawItem:
    content_html, content_text, summary = (_text(data.get(k)) for k in ("content_html", "content_text", "summary"))
    published = _date(data.get("date_published")) or _date(data.get("date_modified"))
    date_text = None if published else _text(data.get("date_published")) or _text(data.get("date_modified"))
    return RawItem(
        guid=_id(data.get("id")),
        link=_text(data.get("url")) or _text(data.get("external_url")),
        title=_text(data.get("title")),
        title_html=False,
        summary=summary or content_html or content_text,
        summary_html=summary is None and content_html is not None,
        content=content_html or content_text,
        content_html=content_html is not None,
        published=published,
        date_text=date_text,
        language=_text(data.get("language")),
    )


def read(body: bytes) -> JsonFeed:
    """`body` as a JSON Feed. Never raises."""
    try:
        data = json.loads(body)
    except RecursionError:
        return JsonFeed(error="not a feed: the JSON is nested too deeply")
    except ValueError as exc:
        return JsonFeed(error=clean(f"not a feed: the JSON is malformed ({exc})")[:500])
    if not isinstance(data, dict):
        return JsonFeed(error="not a feed: JSON, but not a JSON Feed object")
    version = VERSIONS.get(str(data.get("version", "")).rstrip("/"))
    if version is None:
        return JsonFeed(error="not a feed: JSON without a JSON Feed version (https://jsonfeed.org/version/1.1)")
    items = data.get("items")
    if not isinstance(items, list):
        return JsonFeed(version=version, error="malformed JSON Feed: `items` is not a list")
    found: list[RawItem] = []
    skipped: list[Skipped] = []
    for position, item in enumerate(items):
        if isinstance(item, dict):
            found.append(_item(item))
        else:
            skipped.append(Skipped(position, f"item is a JSON {type(item).__name__}, not an object"))
    title = _text(data.get("title"))
    return JsonFeed(found, skipped, clean(title) if title else None, version, language=_text(data.get("language")))
