"""Parsing fetched bytes with feedparser (which never does HTTP here) into normalised entries.

feedparser with its default settings does not resolve external entities nor expand entities a
DOCTYPE declares (a "billion laughs" document parses to the literal reference, in milliseconds); the
bytes are already capped at the feed's `max_bytes`. HTML is sanitised by nh3 (ammonia), not by
feedparser's slower sanitiser; titles are kept as plain text. Parsing is CPU-bound pure Python: the poller
runs `parse_document` in a worker thread so the event loop keeps serving the other fetches.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import importlib.util
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser
import nh3

SUMMARY_CHARS = 2000
MATCH_CHARS = 20_000
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _drop_missing_sax_drivers() -> None:
    """feedparser asks xml.sax for its preferred driver (libxml2's, rarely installed) before expat
    on every parse, and Python does not remember a failed import: each parse searched every sys.path
    entry again, under the import lock (6 % of a 5-item feed's parse, measured). Drivers that are not
    installed are dropped from the list once, here."""
    preferred = feedparser.api.PREFERRED_XML_PARSERS
    preferred[:] = [name for name in preferred if importlib.util.find_spec(name) is not None]


_drop_missing_sax_drivers()


@dataclass(frozen=True)
class ParsedEntry:
    identity: str
    identity_hash: str
    content_hash: str
    title: str | None
    link: str | None
    published: datetime | None
    summary: str | None
    text: str
    """Title and plain text of summary and content: what rules are matched against."""


@dataclass(frozen=True)
class Document:
    """A parsed feed. `error` says why the bytes are not a feed (then there are no entries)."""

    entries: tuple[ParsedEntry, ...] = ()
    title: str | None = None
    version: str | None = None
    error: str | None = None


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def plain(fragment: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", fragment))).strip()


def _published(entry: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _summary(raw: str) -> str | None:
    if not raw:
        return None
    cleaned = nh3.clean(raw)
    if len(cleaned) > SUMMARY_CHARS:
        # Cut, then clean again: nh3 closes what the cut left open.
        cleaned = nh3.clean(cleaned[:SUMMARY_CHARS] + "…")
    return cleaned


def normalise(entry: Mapping[str, Any]) -> ParsedEntry:
    """One feedparser entry as stored: identity = guid, else link, else a hash of title, date, summary."""
    title = plain(_text(entry.get("title"))) or None
    link = _text(entry.get("link")).strip() or None
    raw_summary = _text(entry.get("summary"))
    contents = entry.get("content")
    content = ""
    if isinstance(contents, list) and contents and isinstance(contents[0], Mapping):
        content = _text(contents[0].get("value"))
    published = _published(entry)
    date_text = published.isoformat() if published else _text(entry.get("published") or entry.get("updated"))
    guid = _text(entry.get("id")).strip()
    identity = guid or link or "hash:" + sha1("\x1f".join((title or "", date_text, raw_summary)))
    content_hash = sha1("\x1f".join((title or "", link or "", date_text, raw_summary, content)))
    body = plain(raw_summary)
    if content and content != raw_summary:
        body += " " + plain(content)
    return ParsedEntry(
        identity=identity,
        identity_hash=sha1(identity),
        content_hash=content_hash,
        title=title[:1000] if title else None,
        link=link[:4000] if link else None,
        published=published,
        summary=_summary(raw_summary or content),
        text=((title or "") + "\n" + body)[:MATCH_CHARS],
    )


def parse_document(body: bytes, headers: Mapping[str, str], url: str) -> Document:
    """Parse `body` as served with `headers` from `url`. Never raises: a failure is `error`."""
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", url)
    try:
        # feedparser's own sanitiser and URI rewriting of HTML content are off: nh3 sanitises what
        # is stored (faster and stricter), and entry links are still resolved against the URL.
        parsed = feedparser.parse(
            body, response_headers=response_headers, resolve_relative_uris=False, sanitize_html=False
        )
        version = parsed.get("version") or None
        entries = parsed.get("entries") or []
        if not version and not entries:
            reason = parsed.get("bozo_exception")
            detail = f": {reason}" if reason else ""
            kind = "an empty body" if not body.strip() else "not a feed"
            return Document(error=f"{kind} (RSS or Atom expected){detail}"[:500])
        normalised = tuple(normalise(e) for e in entries)
        title = _text(parsed.get("feed", {}).get("title")) or None
    except Exception as exc:  # a hostile document must never take the worker down
        return Document(error=f"parser failed: {exc.__class__.__name__}: {exc}"[:500])
    return Document(entries=normalised, title=title, version=version)
