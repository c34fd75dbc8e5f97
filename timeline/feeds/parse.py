"""Fetched bytes into a `Document` of normalised entries: feedparser-rs first, feedparser as the
fallback, JSON Feed by the standard library. No parser here ever does HTTP.

Which parser reads a document:
- JSON (the body opens with `{`): `timeline.feeds.jsonfeed`;
- otherwise feedparser-rs (Rust, much faster than feedparser: see
  docs/design.md#feedparser-rs-first-feedparser-as-the-fallback), given the bytes only: its `parse`
  fetches a *string* that looks like a URL by itself, so it never receives a string; and with
  `ParserLimits` capping entries, links, tags and content blocks per document;
- feedparser, when feedparser-rs cannot do as well: it raised, it found the document malformed
  (feedparser's loose parser recovers more of a broken document), the document uses `xml:base`
  (feedparser resolves ids and links against it; feedparser-rs does not), the HTTP header names a
  charset (feedparser-rs does not see headers), or the bytes are not the UTF-8 it assumed.
  feedparser's own sanitiser and URI rewriting are off: nh3 sanitises what is stored.

Before either parser sees the bytes, character references to characters XML forbids are replaced
(`scrub_char_refs`): `&#xD800;` made feedparser fail the whole document, and `&#0;` would put a
NUL in a title. Parsing is CPU-bound: the poller runs `parse_document` in worker threads.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any, Literal
from urllib.parse import urljoin

import feedparser_rs

from timeline.feeds import jsonfeed
from timeline.feeds.items import ParsedEntry, RawItem, Skipped, normalise_items
from timeline.feeds.readers import Ambiguous, raw_item
from timeline.feeds.text import clean, scrub_char_refs

MAX_ENTRIES = 10_000
"""Entries read from one document at most (either parser); the rest are left out."""
LIMITS = feedparser_rs.ParserLimits(
    max_feed_size_bytes=100_000_000,
    max_entries=MAX_ENTRIES,
    max_links_per_feed=100,
    max_links_per_entry=50,
    max_authors=20,
    max_contributors=20,
    max_tags=100,
    max_content_blocks=10,
    max_enclosures=20,
)
Reader = Literal["auto", "feedparser"]
_UTF8 = frozenset({"utf-8", "utf8"})
_BASE64 = re.compile(rb"mode\s*=\s*[\"']base64")
_C1 = re.compile(rb"\xc2[\x80-\x9f]|&#(?:1[2-5][0-9]|[xX]0*[89][0-9a-fA-F]);")
"""C1 controls, in UTF-8 or as references: windows-1252 text taken for Unicode, which feedparser
repairs (`&#146;` is a right quote to it and to browsers)."""
_FEEDPARSER_ONLY = re.compile(rb"<(?:\w+:)?(?:body|fullitem)[\s>]")
"""Elements feedparser reads as an item's content and feedparser-rs ignores: XHTML `<body>` in RSS,
`<fullitem>`."""
_TEXT_TYPES = frozenset({"text", "html", "xhtml", "text/plain", "text/html", "application/xhtml+xml"})
_HTML_TITLE = re.compile(rb"title\s[^>]*type\s*=\s*[\"'](?:html|text/html)[\"']")
"""An Atom title declaring HTML: feedparser-rs says `text/html` of those and of titles with no type."""
_ITEM = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>]")


@dataclass(frozen=True)
class Document:
    """A parsed feed. `error` says why the bytes are not a feed (then there are no entries);
    `skipped` lists the items left out (each with its reason); `parser` names who read it."""

    entries: tuple[ParsedEntry, ...] = ()
    title: str | None = None
    version: str | None = None
    error: str | None = None
    skipped: tuple[Skipped, ...] = ()
    parser: str | None = None


@cache
def _feedparser() -> ModuleType:
    """feedparser, imported at its first use (most documents never need it), without the SAX drivers
    that are not installed: it asks for them on every parse, and Python does not remember a failed
    import (each parse searched every sys.path entry again, under the import lock)."""
    import feedparser

    module: ModuleType = feedparser
    preferred = feedparser.api.PREFERRED_XML_PARSERS
    preferred[:] = [name for name in preferred if importlib.util.find_spec(name) is not None]
    return module


def _charset(headers: Mapping[str, str]) -> str | None:
    for part in (_header(headers, "content-type") or "").split(";")[1:]:
        key, _, charset = part.partition("=")
        if key.strip().lower() == "charset":
            return charset.strip().strip("\"'").lower() or None
    return None


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _header(headers: Mapping[str, str], wanted: str) -> str | None:
    for name, value in headers.items():
        if name.lower() == wanted:
            return value
    return None


def base_url(headers: Mapping[str, str], url: str) -> str:
    """What relative links resolve against: the response's Content-Location, else its URL."""
    location = _header(headers, "content-location")
    if not location:
        return url
    try:
        return urljoin(url, location.strip())
    except ValueError:
        return url


def _rs_may_read(body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether feedparser-rs can read `body` as well as feedparser (see the module's docstring)."""
    if b"xml:base" in body or (b"base64" in body and _BASE64.search(body)):
        return False
    if (b"&#" in body or b"\xc2" in body) and _C1.search(body):
        return False
    if (b"<body" in body or b":body" in body or b"fullitem" in body) and _FEEDPARSER_ONLY.search(body):
        return False
    charset = _charset(headers)
    return charset is None or (charset in _UTF8 and _utf8(body))


def _document(
    raws: list[RawItem],
    skipped: list[Skipped],
    url: str,
    title: Any,
    version: str,
    parser: str,
    language: Any = None,
) -> Document:
    """The document of `raws`; an item that declares no language takes the document's `language`."""
    if isinstance(language, str) and language.strip():
        raws = [raw if raw.language else dataclasses.replace(raw, language=language) for raw in raws]
    entries, bad = normalise_items(raws[:MAX_ENTRIES], url)
    return Document(
        entries=tuple(entries),
        title=clean(title) if isinstance(title, str) and title else None,
        version=version,
        skipped=(*skipped, *bad),
        parser=parser,
    )


def _with_rs(body: bytes, url: str) -> Document | None:
    """feedparser-rs's reading of `body`, or None where feedparser should read it instead."""
    parsed = feedparser_rs.parse_with_limits(
        bytes(body), limits=LIMITS, sanitize_html=False, resolve_relative_uris=False
    )
    version = parsed.version or ""
    if parsed.bozo or not version or (not parsed.entries and _ITEM.search(body)):
        return None
    if (parsed.encoding or "").lower() not in _UTF8 or not _utf8(body):
        return None  # feedparser's detection of legacy encodings is the reference
    atom = version.startswith("atom")
    if atom and any(_binary(entry) for entry in parsed.entries):
        return None
    meaning: Ambiguous = ("html" if _HTML_TITLE.search(body) else "text") if atom else "guess"
    raws = [raw_item(entry, title_html=meaning) for entry in parsed.entries]
    if b"dcterms:" in body and any(raw.published is None for raw in raws):
        return None  # feedparser reads Dublin Core Terms dates
    if atom:
        raws = [_absolute_id(raw, url) for raw in raws]
    return _document(raws, [], url, parsed.feed.title, version, "feedparser-rs", getattr(parsed.feed, "language", None))


def _binary(entry: Any) -> bool:
    """Whether an Atom entry has a text of a media type that means base64 (feedparser decodes it)."""
    types = [c.type for c in entry.content or ()]
    types += [detail.type for detail in (entry.title_detail, entry.summary_detail) if detail is not None]
    return any(kind and kind not in _TEXT_TYPES for kind in types)


def _absolute_id(raw: RawItem, base: str) -> RawItem:
    """An Atom id written without a scheme (`right`, `/item/1`) resolved against the base, as
    feedparser resolves it: the same item keeps one identity whichever parser reads it."""
    if not raw.guid or ":" in raw.guid:
        return raw
    try:
        return dataclasses.replace(raw, guid=urljoin(base, raw.guid.strip()))
    except ValueError:
        return raw


def _with_feedparser(body: bytes, headers: Mapping[str, str], url: str) -> Document:
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers["content-location"] = url
    parsed = _feedparser().parse(
        body, response_headers=response_headers, resolve_relative_uris=False, sanitize_html=False
    )
    version = parsed.get("version") or ""
    entries = parsed.get("entries") or []
    if not version and not entries:
        reason = parsed.get("bozo_exception")
        detail = f": {reason}" if reason else ""
        kind = "an empty body" if not body.strip() else "not a feed"
        return Document(error=clean(f"{kind} (RSS, Atom or JSON Feed expected){detail}")[:500], parser="feedparser")
    raws = [raw_item(entry) for entry in entries[:MAX_ENTRIES]]
    feed = parsed.get("feed", {})
    return _document(raws, [], url, feed.get("title"), version, "feedparser", feed.get("language"))


def _json(body: bytes, url: str) -> Document:
    read = jsonfeed.read(body)
    if read.error is not None:
        return Document(error=read.error, version=read.version, parser="json")
    return _document(read.items, read.skipped, url, read.title, read.version or "json", "json", read.language)


def parse_document(body: bytes, headers: Mapping[str, str], url: str, *, reader: Reader = "auto") -> Document:
    """Parse `body` as served with `headers` from `url` (relative links resolve against it). Never
    raises: a failure is `error`. `reader="feedparser"` skips feedparser-rs (the oracle, in tests)."""
    try:
        body = scrub_char_refs(body)
        base = base_url(headers, url)
        if jsonfeed.looks_like_json(body):
            return _json(body, base)
        if reader == "auto" and _rs_may_read(body, headers):
            try:
                read = _with_rs(body, base)
            except Exception:  # feedparser reads what feedparser-rs could not
                read = None
            if read is not None:
                return read
        return _with_feedparser(body, headers, base)
    except Exception as exc:  # a hostile document must never take the worker down
        return Document(error=clean(f"parser failed: {exc.__class__.__name__}: {exc}")[:500])
