"""Reading OPML subscription lists as other feed readers write them.

What NetNewsWire, Miniflux, Inoreader, Feedly, Liferea, Thunderbird and others export differs in
small ways, all of which are read here:
- attribute names in any case (`xmlUrl`, `xmlurl`, `XMLURL`);
- a feed's name in `text` (OPML 2.0: what the reader shows), else in `title`;
- folders as nested outlines (the whole path is kept: `News/Tech`), and the OPML 2.0 `category`
  attribute (`category="/news/tech,python"` is two: `news/tech` and `python`); both become tags;
- a feed listed in several folders is one feed with every folder's tag;
- outlines that are not feeds (another subscription list: `type="source"`, `link`, `include`; a web
  page without a feed URL) are skipped with a note naming their line.

A document that is not well-formed XML is recovered where its feeds can still be read: HTML entities
XML does not define (`&nbsp;`, `&eacute;`) and bare `&` are repaired, and failing that the outlines
are read one tag at a time; each repair is a warning naming its line. Entity declarations are
refused (no entity expansion, no external entities). Nothing here raises but `ConfigError`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.entities import name2codepoint
from pathlib import Path
from xml.parsers import expat

from timeline.errors import ConfigError, Problem

MAX_BYTES = 20_000_000
"""The largest OPML document read (subscription lists are kilobytes; this is a guard)."""

LIST_TYPES = frozenset({"source", "link", "include"})
"""Outline types that point at another subscription list, not at a feed."""


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    url: str
    tags: tuple[str, ...] = ()


@dataclass
class OpmlDocument:
    """The feeds of an OPML document in document order, and what a person should know about the
    rest: `notes` (outlines skipped, and why) and `warnings` (repairs of a malformed file)."""

    feeds: list[OpmlFeed] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Refused(Exception):
    """An entity declaration: refused, not expanded."""


class _Outlines:
    """Collects feeds from outline start and end events (from expat or from the tag scanner)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document = OpmlDocument()
        self.folders: list[str | None] = []
        self.by_url: dict[str, tuple[str, list[str]]] = {}
        self.root: str | None = None

    def start(self, tag: str, raw: dict[str, str], line: int) -> None:
        name = tag.rsplit(":", 1)[-1].lower()
        if self.root is None:
            self.root = name
        if name != "outline":
            return
        attrs = {k.lower(): v for k, v in raw.items()}
        label = (attrs.get("text") or "").strip() or (attrs.get("title") or "").strip()
        url = (attrs.get("xmlurl") or "").strip()
        skipped = _not_a_feed(attrs, label, url)
        if skipped is not None:
            self._note(line, *skipped)
            self.folders.append(None)
        elif not url:
            self.folders.append(label or None)
        else:
            self.folders.append(None)
            self._add(line, label, url, attrs.get("category", ""))

    def _add(self, line: int, label: str, url: str, category: str) -> None:
        feed_url = _feed_url(url)
        if feed_url is None:
            self._note(line, label or url, f"its feed URL {url!r} is not http(s)")
            return
        tags = [*_categories(category), *self._path()]
        known = self.by_url.get(feed_url)
        if known is None:
            self.by_url[feed_url] = (label or feed_url, list(dict.fromkeys(tags)))
        else:
            known[1].extend(t for t in tags if t not in known[1])

    def end(self, tag: str) -> None:
        if tag.rsplit(":", 1)[-1].lower() == "outline" and self.folders:
            self.folders.pop()

    def _path(self) -> list[str]:
        names = [f for f in self.folders[:-1] if f]
        return ["/".join(names)] if names else []

    def _note(self, line: int, label: str, why: str) -> None:
        self.document.notes.append(f"{self.path}:{line}: skipped {label!r}: {why}")

    def finish(self) -> OpmlDocument:
        self.document.feeds = [OpmlFeed(title, url, tuple(tags)) for url, (title, tags) in self.by_url.items()]
        return self.document


def _not_a_feed(attrs: dict[str, str], label: str, url: str) -> tuple[str, str] | None:
    """(label, why) for an outline skipped though it has a URL: a subscription list, a web page."""
    kind = (attrs.get("type") or "").strip().lower()
    if kind in LIST_TYPES and (url or attrs.get("url")):
        return label or url or attrs.get("url", ""), f'type="{kind}" is a subscription list, not a feed'
    if not url and attrs.get("htmlurl"):
        return label or attrs["htmlurl"], "it has a web page (htmlUrl) but no feed URL (xmlUrl)"
    return None


def _categories(value: str) -> list[str]:
    """`/news/tech,python` → `news/tech`, `python`."""
    paths = ("/".join(p.strip() for p in part.split("/") if p.strip()) for part in value.split(","))
    return [p for p in paths if p]


def _feed_url(url: str) -> str | None:
    """The http(s) URL of a feed, reading the `feed:` conventions (`feed://host/x`, `feed:https://…`)."""
    if url.lower().startswith("feed:"):
        rest = url[5:]
        url = rest if rest.lower().startswith(("http://", "https://")) else "http:" + rest
    return url if url.lower().startswith(("http://", "https://")) and len(url) > 8 else None


def _expat(data: bytes, outlines: _Outlines) -> None:
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> None:
        raise _Refused

    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = lambda tag, attrs: outlines.start(tag, attrs, parser.CurrentLineNumber)
    parser.EndElementHandler = outlines.end
    parser.Parse(data, True)


_AMP = re.compile(rb"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]{0,31};)?")


def _repair(data: bytes, path: Path, warnings: list[str]) -> bytes:
    """`data` with what XML rejects and readers write anyway made well-formed: HTML entities XML
    does not define become characters, a bare `&` becomes `&amp;`, leading blank space goes."""
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    skipped = data.count(b"\n", 0, len(data) - len(stripped))
    seen: set[tuple[int, bytes]] = set()

    def fix(match: re.Match[bytes]) -> bytes:
        line = skipped + stripped.count(b"\n", 0, match.start()) + 1
        entity = match.group(1)
        if entity is not None and entity[:-1].decode() in name2codepoint:
            if (line, entity) not in seen:
                seen.add((line, entity))
                name = entity[:-1].decode()
                warnings.append(
                    f"{path}:{line}: '&{name};' is not an XML entity; read as {chr(name2codepoint[name])!r}"
                )
            return b"&#%d;" % name2codepoint[entity[:-1].decode()]
        if (line, b"&") not in seen:
            seen.add((line, b"&"))
            warnings.append(f"{path}:{line}: a bare '&' (write '&amp;'); read as '&'")
        return b"&amp;" + (entity or b"")

    return _AMP.sub(fix, stripped)


_TAG = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(/?)>", re.S)
_ATTR = re.compile(r"([A-Za-z_][\w:.-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')", re.S)


def _scan(text: str, outlines: _Outlines) -> None:
    """The outlines of a document too broken for an XML parser, read one tag at a time."""
    for match in _TAG.finditer(text):
        closing, tag, rest, empty = match.groups()
        if closing:
            outlines.end(tag)
            continue
        attrs = {m[1]: html.unescape(m[2] if m[2] is not None else m[3]) for m in _ATTR.finditer(rest)}
        outlines.start(tag, attrs, text.count("\n", 0, match.start()) + 1)
        if empty:
            outlines.end(tag)


def _decode(data: bytes) -> str:
    declared = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)", data)
    try:
        return data.decode(declared[1].decode() if declared else "utf-8", errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _attempt(read: Callable[[_Outlines], None], path: Path) -> _Outlines:
    outlines = _Outlines(path)
    read(outlines)
    return outlines


def read_opml(data: bytes, path: Path) -> OpmlDocument:
    """The feeds of the OPML document `data` (read from `path`, named in every message). Raises
    ConfigError when it is not OPML, or so broken that no feed can be read from it."""
    if len(data) > MAX_BYTES:
        raise ConfigError(
            [Problem(path, None, "", f"larger than {MAX_BYTES // 1_000_000} MB; not a subscription list")]
        )
    warnings: list[str] = []
    try:
        outlines = _attempt(lambda o: _expat(data, o), path)
    except _Refused:
        raise ConfigError([Problem(path, None, "", "declares XML entities, which are refused")]) from None
    except expat.ExpatError as exc:
        first = f"{path}:{exc.lineno}: not well-formed XML ({expat.errors.messages[exc.code]})"
        repaired = _repair(data, path, warnings)
        try:
            outlines = _attempt(lambda o: _expat(repaired, o), path)
            warnings = warnings or [f"{first}; read after removing the blank space before it"]
        except _Refused:
            raise ConfigError([Problem(path, None, "", "declares XML entities, which are refused")]) from None
        except expat.ExpatError as again:
            warnings = [f"{first}; the outlines that could be found were read"]
            outlines = _attempt(lambda o: _scan(_decode(data), o), path)
            if outlines.root != "opml" or not outlines.by_url:
                line = again.lineno
                raise ConfigError(
                    [Problem(path, line, "", f"not valid XML: {expat.errors.messages[again.code]}")]
                ) from None
    if outlines.root != "opml":
        raise ConfigError([Problem(path, 1, "", "not an OPML document (expected <opml><body>)")])
    document = outlines.finish()
    document.warnings = warnings
    return document
