"""What feedparser-rs and feedparser read of an item, as `RawItem`s: the two parsers' results differ
in shape (attributes and objects against dictionaries), not in what is kept of them.

Both report a title's format: Atom declares it (text when it does not say); for RSS, feedparser
guesses (plain text, unless it looks like HTML). feedparser-rs calls every RSS title HTML, so the
same guess is made here (`timeline.feeds.text.looks_like_html`); it also calls an Atom title with
no `type` HTML, so the document's bytes tell (`timeline.feeds.parse`).
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from timeline.feeds.items import RawItem
from timeline.feeds.text import looks_like_html


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


Ambiguous = Literal["html", "guess", "text"]
"""What a declared `text/html` means: HTML (feedparser says what was written), a guess from the
text (feedparser-rs on RSS), or text (feedparser-rs on an Atom document none of whose titles
declares HTML: it says `text/html` of a title with no `type`, which RFC 4287 says is text)."""


def _title_is_html(title: str | None, declared: str | None, ambiguous: Ambiguous) -> bool:
    if declared == "application/xhtml+xml":
        return True
    if declared not in ("text/html", "html"):
        return False
    if ambiguous == "guess":
        return title is not None and looks_like_html(title)
    return ambiguous == "html"


def _declared_language(entry: Any) -> str | None:
    """The xml:lang of an entry's title or summary (feedparser and feedparser-rs put it there)."""
    for name in ("title_detail", "summary_detail"):
        detail = _field(entry, name)
        value = _field(detail, "language") if detail is not None else None
        if isinstance(value, str) and value.strip():
            return value
    return None


def raw_item(entry: Any, *, title_html: Ambiguous = "html") -> RawItem:
    """One parsed entry (feedparser's or feedparser-rs's) as a RawItem; `title_html` says what a
    title declared `text/html` is (see `Ambiguous`)."""
    title, title_type = _detail(entry, "title")
    summary, summary_type = _detail(entry, "summary")
    content, content_html = _content(entry)
    published, date_text = _published(entry)
    return RawItem(
        guid=_str(_field(entry, "id")),
        link=_str(_field(entry, "link")),
        title=title,
        title_html=_title_is_html(title, title_type, title_html),
        summary=summary,
        summary_html=summary_type != "text/plain",
        content=content,
        content_html=content_html,
        published=published,
        date_text=date_text,
        language=_declared_language(entry),
    )
