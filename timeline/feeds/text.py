"""Text from feeds, made safe to store and to match: pure functions that cannot raise on any string.

- `clean`: control characters (but tab and newline) and lone surrogates become U+FFFD, which
  PostgreSQL, SQLite and every JSON encoder accept (a NUL or `\\ud800` would fail the write);
- `plain`: the text of an HTML fragment (tags dropped, entities decoded once, spaces collapsed);
- `looks_like_html`: whether a title or summary whose format the feed did not declare (RSS) is
  HTML, by the rule feedparser applies, so that both parsers store the same title;
- `scrub_char_refs`: numeric character references to characters XML forbids (`&#0;`, `&#xD800;`)
  replaced in the raw bytes, so one bad item cannot fail its whole document in either parser.
"""

from __future__ import annotations

import html
import re
from html.entities import name2codepoint

from alerts.message import clean

__all__ = ["clean", "looks_like_html", "plain", "scrub_char_refs"]

_TAG = re.compile(r"<[^>]*>")
_CLOSE_TAG = re.compile(r"</(\w+)>")
_ANY_TAG = re.compile(r"</?(\w+)")
_ENTITY = re.compile(r"&#?\w+;")
_NAMED_ENTITY = re.compile(r"&(\w+);")
_HTML_ELEMENTS = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "address",
        "area",
        "article",
        "aside",
        "audio",
        "b",
        "bdi",
        "bdo",
        "big",
        "blockquote",
        "br",
        "button",
        "canvas",
        "caption",
        "center",
        "cite",
        "code",
        "col",
        "colgroup",
        "data",
        "datalist",
        "dd",
        "del",
        "details",
        "dfn",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "em",
        "fieldset",
        "figcaption",
        "figure",
        "font",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "i",
        "img",
        "input",
        "ins",
        "kbd",
        "label",
        "legend",
        "li",
        "main",
        "map",
        "mark",
        "menu",
        "meter",
        "nav",
        "noscript",
        "ol",
        "optgroup",
        "option",
        "output",
        "p",
        "picture",
        "pre",
        "progress",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "section",
        "select",
        "small",
        "source",
        "span",
        "strike",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "textarea",
        "tfoot",
        "th",
        "thead",
        "time",
        "tr",
        "track",
        "tt",
        "u",
        "ul",
        "var",
        "video",
        "wbr",
    ]
)
"""Elements that make a title "HTML" when the feed does not say. Not script, style, iframe or
object: a title like `Why </script> breaks pages` is text about HTML, not HTML."""


def plain(fragment: str) -> str:
    """Text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    if "<" in fragment:
        fragment = _TAG.sub(" ", fragment)
    if "&" in fragment:
        fragment = html.unescape(fragment)
    return " ".join(fragment.split())


def looks_like_html(text: str) -> bool:
    """Whether `text` reads as HTML: it has a closing tag or an entity reference, every tag is a
    known HTML element, and every named entity is a known one. Otherwise it is plain text, however
    many `<` it holds (`</example>`, `Use <div> for layout`)."""
    if not (_CLOSE_TAG.search(text) or _ENTITY.search(text)):
        return False
    if any(tag.lower() not in _HTML_ELEMENTS for tag in _ANY_TAG.findall(text)):
        return False
    return all(name in name2codepoint for name in _NAMED_ENTITY.findall(text))


_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_REPLACEMENT = b"&#xFFFD;"


def _xml_char(code: int) -> bool:
    """Whether XML 1.0 allows the character `code` (section 2.2, Char)."""
    if code < 0x20:
        return code in (0x9, 0xA, 0xD)
    return code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _scrubbed(match: re.Match[bytes]) -> bytes:
    hexa, decimal = match.groups()
    code = int(hexa, 16) if hexa is not None else int(decimal)
    return match.group(0) if _xml_char(code) else _REPLACEMENT


def scrub_char_refs(body: bytes) -> bytes:
    """`body` with every numeric character reference to a character XML forbids (NUL and other
    controls, lone surrogates, beyond U+10FFFF) made `&#xFFFD;`. Others are left as they are."""
    if b"&#" not in body:
        return body
    return _CHAR_REF.sub(_scrubbed, body)
