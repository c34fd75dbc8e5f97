"""What feedparser-rs and feedparser read of an item, as `RawItem`s: the two parsers' results differ
in shape (attributes and objects against dictionaries), not in what is kept of them.

Both report a title's format: Atom declares it; for RSS, feedparser guesses (plain text, unless it
looks like HTML) while feedparser-rs calls every RSS title HTML, so the same guess is made here
(`timeline.feeds.text.looks_like_html`).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from timeline.feeds.items import RawItem
from timeline.feeds.text import looks_like_html

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", "html", "xhtml"})


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def instant(value: Any) -> datetime | None:
    """A parser's `*_parsed` struct_time (UTC) as an aware datetime; None if it is not one."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _field(entry: Any, name: str) -> Any:
    """`entry[name]` of a feedparser dictionary or `entry.name` of a feedparser-rs object."""
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


def _detail(entry: Any, name: str) -> tuple[str | None, str | None]:
    """(value, declared type) of a text construct: `title`, `summary`."""
    detail = _field(entry, f"{name}_detail")
    kind = _field(detail, "type") if detail is not None else None
    return _str(_field(entry, name)), kind if isinstance(kind, str) else None


def _content(entry: Any) -> tuple[str | None, bool]:
    contents = _field(entry, "content")
    if not isinstance(contents, list) or not contents:
        return None, True
    first = contents[0]
    kind = _field(first, "type")
    return _str(_field(first, "value")), kind != "text/plain"


def _published(entry: Any) -> tuple[datetime | None, str | None]:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        found = instant(_field(entry, name))
        if found is not None:
            return found, None
    return None, _str(_field(entry, "published")) or _str(_field(entry, "updated"))


def raw_item(entry: Any, *, guess_html: bool) -> RawItem:
    """One parsed entry (feedparser's or feedparser-rs's) as a RawItem. `guess_html`: decide
    whether the title is HTML from its text (RSS read by feedparser-rs), not from its declared type."""
    title, title_type = _detail(entry, "title")
    summary, summary_type = _detail(entry, "summary")
    content, content_html = _content(entry)
    published, date_text = _published(entry)
    guessed = title is not None and looks_like_html(title)
    title_html = guessed if guess_html else title_type in _HTML_TYPES
    return RawItem(
        guid=_str(_field(entry, "id")),
        link=_str(_field(entry, "link")),
        title=title,
        title_html=title_html,
        summary=summary,
        summary_html=summary_type != "text/plain",
        content=content,
        content_html=content_html,
        published=published,
        date_text=date_text,
    )
