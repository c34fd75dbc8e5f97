"""OPML 2.0 import and export: the list format every feed reader speaks.

Export writes one `<outline type="rss">` per feed. Import reads every outline with an `xmlUrl`
(nested folders included) and appends the feeds not already there to feeds.yaml, keeping its
comments (ruamel round-trip), or renders them as YAML to paste. Imported feeds have no rule: every
new item matches until one is written.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from timeline.config.feeds import FeedSpec, load_feeds
from timeline.errors import ConfigError, Problem
from timeline.feeds.match import words


@dataclass(frozen=True)
class OpmlFeed:
    title: str
    url: str
    category: str | None = None


def export_opml(specs: Sequence[FeedSpec], now: datetime, title: str = "timeline-alerts feeds") -> str:
    """An OPML 2.0 document listing `specs`."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = ET.SubElement(root, "body")
    for spec in specs:
        ET.SubElement(body, "outline", type="rss", text=spec.name, title=spec.name, xmlUrl=spec.url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def read_opml(data: bytes, path: Path) -> list[OpmlFeed]:
    """The feeds of an OPML document; ConfigError naming the file when it is not OPML."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise ConfigError([Problem(path, line, "", f"not valid XML: {exc}")]) from None
    if root.tag != "opml" or root.find("body") is None:
        raise ConfigError([Problem(path, 1, "", "not an OPML document (expected <opml><body>)")])
    found: list[OpmlFeed] = []
    seen: set[str] = set()

    def walk(node: ET.Element, category: str | None) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or "").strip()
            label = (outline.get("title") or outline.get("text") or "").strip()
            if url and url not in seen:
                seen.add(url)
                found.append(OpmlFeed(label or url, url, category))
            walk(outline, category if url else (label or category))

    walk(root.find("body"), None)  # type: ignore[arg-type]
    return found


def _slug(title: str, taken: set[str]) -> str:
    base = "-".join(words(title).split())[:60].strip("-") or "feed"
    base = re.sub(r"[^a-z0-9._-]", "", base) or "feed"
    if not base[0].isalnum():
        base = "feed-" + base
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _entries(feeds: Sequence[OpmlFeed], taken: set[str]) -> list[dict[str, Any]]:
    entries = []
    for feed in feeds:
        entry: dict[str, Any] = {"id": _slug(feed.title, taken), "name": feed.title, "url": feed.url}
        if feed.category:
            entry["tags"] = ["-".join(words(feed.category).split()) or "imported"]
        entries.append(entry)
    return entries


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def new_feeds(feeds: Sequence[OpmlFeed], existing: Sequence[FeedSpec]) -> list[OpmlFeed]:
    """Those of `feeds` whose URL is not already watched."""
    urls = {s.url for s in existing}
    return [f for f in feeds if f.url not in urls and f.url.startswith(("http://", "https://"))]


def render_yaml(feeds: Sequence[OpmlFeed], existing: Sequence[FeedSpec] = ()) -> str:
    """`feeds` as a `feeds:` YAML list with fresh ids, to paste into feeds.yaml."""
    return render_entries(_entries(feeds, {s.id for s in existing}), header=True)


def append_to_file(path: Path, feeds: Sequence[OpmlFeed]) -> list[str]:
    """Append `feeds` (those not already in `path`) to feeds.yaml and return the ids added.

    When `feeds:` is the file's last key (as shipped), the new entries are appended as text and
    nothing else in the file changes; otherwise the file is rewritten round-trip (comments kept).
    The result is validated before it replaces the file: a file that would not load is left alone.
    """
    existing = load_feeds(path)
    added = new_feeds(feeds, existing)
    if not added:
        return []
    entries = _entries(added, {s.id for s in existing})
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    yaml = _yaml()
    yaml.preserve_quotes = True
    document = yaml.load(text) if text.strip() else None
    if document is None:
        result = text + render_entries(entries, header=True)
    elif isinstance(document, CommentedMap) and list(document)[-1:] == ["feeds"] and _is_block(document["feeds"]):
        result = text + ("" if text.endswith("\n") else "\n") + render_entries(entries)
    else:
        if not isinstance(document.get("feeds"), CommentedSeq):
            document["feeds"] = CommentedSeq()
        document["feeds"].extend(CommentedMap(e) for e in entries)
        stream = io.StringIO()
        yaml.dump(document, stream)
        result = stream.getvalue()
    candidate = path.with_name(path.name + ".importing")
    candidate.write_text(result, encoding="utf-8")
    try:
        load_feeds(candidate)
    except ConfigError:
        candidate.unlink()
        raise
    candidate.replace(path)
    return [e["id"] for e in entries]


def _is_block(value: Any) -> bool:
    return isinstance(value, CommentedSeq) and len(value) > 0 and not value.fa.flow_style()


def render_entries(entries: Sequence[dict[str, Any]], *, header: bool = False) -> str:
    stream = io.StringIO()
    _yaml().dump({"feeds": list(entries)}, stream)
    rendered = stream.getvalue()
    return rendered if header else rendered.split("\n", 1)[1]
