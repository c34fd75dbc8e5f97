"""Feed items as stored: from the few raw values a parser read (`RawItem`) to a `ParsedEntry`.

Every reader (feedparser-rs, feedparser, JSON Feed) gives `RawItem`s, and this one module decides
what is stored, so that the parsers can only differ in what they read, never in how it is kept:
- identity: the guid (Atom id, JSON Feed id), else the link, else a hash of title, date and
  summary. When one document repeats a guid with different links, those items are distinct: their
  identity is the guid and the link (`assign_identities`), and the bare guid stays an alias so that
  an entry stored before this rule is recognised (see `timeline.feeds.plan`);
- title: plain text. A title declared or recognised as HTML is reduced to its text; a plain one is
  kept as the parser gave it (`<title>&lt;/example&gt;</title>` is `</example>`);
- summary: HTML sanitised by nh3, at most `SUMMARY_CHARS`; plain text is escaped first;
- text: title and plain text of summary and content, what rules are matched against;
- every string cleaned of NULs, controls and lone surrogates (`timeline.feeds.text.clean`).

`normalise_items` gives each item its own error boundary: an item that cannot be read is skipped
with its reason, and the others are kept.
"""

from __future__ import annotations

import hashlib
import html
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin

import nh3

from timeline.feeds.text import clean, plain

SUMMARY_CHARS = 2000
MATCH_CHARS = 20_000
TITLE_CHARS = 1000
LINK_CHARS = 4000
IDENTITY_CHARS = 4000
SCHEME = 2
"""The version of the rules that make an entry's identity and content hash. An entry stored under an
older one is brought up to date quietly the first time a poll sees it (`timeline.feeds.plan`):
changing these rules must not make every stored item look new or edited."""


@dataclass(frozen=True, slots=True)
class RawItem:
    """What a parser read of one item. `title_html` / `summary_html` / `content_html` say whether
    the value is HTML (declared, or recognised in an RSS item) or plain text."""

    guid: str | None = None
    link: str | None = None
    title: str | None = None
    title_html: bool = False
    summary: str | None = None
    summary_html: bool = True
    content: str | None = None
    content_html: bool = True
    published: datetime | None = None
    date_text: str | None = None
    """The date as written, when it could not be read (part of the identity of an item with no
    guid and no link)."""
    language: str | None = None
    """The language the item (xml:lang) or its document (RSS `<language>`, JSON Feed `language`)
    declares, as written."""


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
    alias_hash: str | None = None
    """The hash of the identity the first scheme gave this item, where it differs: the bare guid of
    a repeated guid, the older content hash of an item with no guid and no link."""
    language: str | None = field(default=None, compare=False)
    """The language the feed declares for the item (`RawItem.language`), for reading its dates; not
    stored, and not part of what makes two readings of an item the same."""


@dataclass(frozen=True)
class Skipped:
    """An item left out of a document, and why."""

    position: int
    reason: str


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def _title(raw: RawItem) -> str | None:
    if not raw.title:
        return None
    text = plain(raw.title) if raw.title_html else " ".join(raw.title.split())
    return clean(text)[:TITLE_CHARS] or None


def _html(value: str | None, is_html: bool) -> str:
    if not value:
        return ""
    return value if is_html else html.escape(value, quote=False).replace("\n", "<br>")


_SANITISER = nh3.Cleaner()
"""nh3's default policy, built once: building a cleaner per call adds to every summary's cleaning
(docs/design.md#nh3-sanitises-summaries)."""


def _cut(fragment: str, limit: int) -> str:
    """`fragment` cut to at most `limit` characters, not inside a tag."""
    if len(fragment) <= limit:
        return fragment
    opened = fragment.rfind("<", 0, limit)
    if opened >= 0 and fragment.find(">", opened, limit) < 0:
        limit = opened
    return fragment[:limit] + "…"


def _summary(fragment: str) -> str | None:
    """`fragment` sanitised by nh3, about `SUMMARY_CHARS` long at most: cut before it is cleaned
    (cleaning is most of the cost of storing an entry), and nh3 closes what the cut left open."""
    if not fragment:
        return None
    cleaned = _SANITISER.clean(_cut(fragment, SUMMARY_CHARS))
    if len(cleaned) > SUMMARY_CHARS * 5 // 4:  # escaping and link attributes made it grow
        cleaned = _SANITISER.clean(_cut(cleaned, SUMMARY_CHARS))
    return clean(cleaned) or None


def _link(value: str | None, base: str | None) -> str | None:
    if not value or not value.strip():
        return None
    link = value.strip()
    if base and "://" not in link[:12]:
        try:
            link = urljoin(base, link)
        except ValueError:
            return None
    return clean(link)[:LINK_CHARS]


def _body(summary_html: str, content_html: str) -> str:
    """The plain text of the summary, and of the content when it says more."""
    body = plain(summary_html)
    if content_html and content_html != summary_html:
        return f"{body} {plain(content_html)}" if body else plain(content_html)
    return body


def _identity(raw: RawItem, given: str | None, link: str | None, hashed: tuple[str, ...]) -> tuple[str, str | None]:
    """(identity, the identity the first scheme gave the item, where it differs). `hashed` is
    (title, date, plain text): what identifies an item with no guid and no link."""
    guid = clean(raw.guid.strip())[:IDENTITY_CHARS] if raw.guid else ""
    if given is not None:
        identity, alias = given[:IDENTITY_CHARS], guid or None
    elif guid or link:
        identity, alias = (guid or link or "")[:IDENTITY_CHARS], None
    else:
        # Of the plain text, so that both parsers agree; the first scheme hashed the summary as the
        # parser gave it, kept as the alias.
        identity = "hash:" + sha1("\x1f".join(hashed))
        alias = "hash:" + sha1("\x1f".join((*hashed[:2], raw.summary or "")))
    return identity, alias if alias != identity else None


def _language(value: str | None) -> str | None:
    """A declared language tag (`fr`, `en-US`), or None for anything that is not one."""
    if not isinstance(value, str):
        return None
    tag = value.strip()
    return tag if 0 < len(tag) <= 35 and all(c.isascii() and (c.isalnum() or c in "-_") for c in tag) else None


def normalise(raw: RawItem, base: str | None = None, identity: str | None = None) -> ParsedEntry:
    """One item as stored. `base` resolves a relative link; `identity` overrides the usual one
    (`assign_identities` sets it for repeated guids). May raise on a value no parser should give:
    `normalise_items` is the boundary."""
    title = _title(raw)
    link = _link(raw.link, base)
    summary_html = _html(raw.summary, raw.summary_html)
    content_html = _html(raw.content, raw.content_html)
    date_text = raw.published.isoformat() if raw.published else clean(raw.date_text or "")
    text = clean(((title or "") + "\n" + _body(summary_html, content_html))[:MATCH_CHARS])
    found, alias = _identity(raw, identity, link, (title or "", date_text, text))
    return ParsedEntry(
        identity=found,
        identity_hash=sha1(found),
        content_hash=sha1("\x1f".join((title or "", link or "", date_text, text))),
        title=title,
        link=link,
        published=raw.published,
        summary=_summary(summary_html or content_html),
        text=text,
        alias_hash=sha1(alias) if alias else None,
        language=_language(raw.language),
    )


def assign_identities(raws: Sequence[RawItem], base: str | None) -> list[str | None]:
    """The identity of each item when its guid is repeated in the document with another link:
    `guid` + space + link; None for every other item (the usual identity applies).

    A guid repeated with the same link (or with no link) is one item, as before."""
    guids = [raw.guid.strip() if raw.guid else "" for raw in raws]
    repeated = {guid for guid, count in Counter(g for g in guids if g).items() if count > 1}
    if not repeated:
        return [None] * len(raws)
    links: dict[str, set[str]] = {}
    for guid, raw in zip(guids, raws, strict=True):
        if guid in repeated:
            links.setdefault(guid, set()).add(_link(raw.link, base) or "")
    split = {guid for guid, found in links.items() if len(found) > 1}
    return [
        f"{clean(guid)} {_link(raw.link, base) or ''}".rstrip() if guid in split else None
        for guid, raw in zip(guids, raws, strict=True)
    ]


def normalise_items(raws: Iterable[RawItem], base: str | None) -> tuple[list[ParsedEntry], list[Skipped]]:
    """Every item of a document as stored, each in its own error boundary: an item that fails is
    skipped with its position and reason, and the others are kept."""
    items = list(raws)
    try:
        identities = assign_identities(items, base)
    except Exception:  # an identity rule must not lose the document: fall back to the usual one
        identities = [None] * len(items)
    entries: list[ParsedEntry] = []
    skipped: list[Skipped] = []
    for position, (raw, identity) in enumerate(zip(items, identities, strict=True)):
        try:
            entries.append(normalise(raw, base, identity))
        except Exception as exc:
            skipped.append(Skipped(position, clean(f"{exc.__class__.__name__}: {exc}")[:200]))
    return entries, skipped
