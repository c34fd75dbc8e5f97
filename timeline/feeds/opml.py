"""OPML 2.0 import and export: the list format every feed reader speaks.

Import (`timeline.feeds.opml_read`) reads the feeds of any reader's export, their folders and
categories as tags, and appends the feeds not already there to feeds.yaml, keeping its comments
(ruamel round-trip), or renders them as YAML to paste. Imported feeds have no rule: every new item
matches until one is written.

Export writes each feed inside the folders its tags name (a tag `news/tech` is the folder News >
Tech; a feed with two tags is listed in both folders) and in the OPML 2.0 `category` attribute, so
that importing the export gives back the same feeds, names and tags, here or in another reader.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from timeline.config.feeds import FeedSpec, load_feeds
from timeline.errors import ConfigError
from timeline.feeds.match import words
from timeline.feeds.opml_read import OpmlDocument, OpmlFeed, read_opml

__all__ = ["OpmlDocument", "OpmlFeed", "append_to_file", "export_opml", "new_feeds", "read_opml", "render_yaml"]


def _folder(parent: ET.Element, folders: dict[tuple[str, ...], ET.Element], path: tuple[str, ...]) -> ET.Element:
    """The outline of folder `path`, made (with its parents) on first use."""
    if not path:
        return parent
    if path not in folders:
        above = _folder(parent, folders, path[:-1])
        folders[path] = ET.SubElement(above, "outline", text=path[-1], title=path[-1])
    return folders[path]


def export_opml(specs: Sequence[FeedSpec], now: datetime, title: str = "timeline-alerts feeds") -> str:
    """An OPML 2.0 document listing `specs`, in the folders their tags name."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = ET.SubElement(root, "body")
    folders: dict[tuple[str, ...], ET.Element] = {}
    for spec in specs:
        paths = [tuple(p for p in tag.split("/") if p) for tag in spec.tags] or [()]
        categories = ",".join("/" + "/".join(p) for p in paths if p and not any("," in part for part in p))
        for path in dict.fromkeys(paths):
            outline = ET.SubElement(_folder(body, folders, path), "outline", type="rss", text=spec.name)
            outline.set("title", spec.name)
            outline.set("xmlUrl", spec.url)
            if categories:
                outline.set("category", categories)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


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
        if feed.tags:
            entry["tags"] = list(feed.tags)
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
