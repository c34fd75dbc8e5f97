"""The language an item's dates are read in: the feed's `lang:`, else what the item or its document
declares (xml:lang, RSS `<language>`, JSON Feed `language`), else detected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from timeline.feeds.items import ParsedEntry
from timeline.feeds.parse import parse_document
from timeline.proposals.record import stated_dates

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><language>fr-FR</language>'
    b"<item><title>x</title><guid>1</guid><description>d</description></item></channel></rss>"
)
ATOM = (
    b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de"><title>t</title>'
    b'<entry xml:lang="es"><id>urn:1</id><title>x</title><summary>d</summary></entry>'
    b"<entry><id>urn:2</id><title>y</title></entry></feed>"
)
JSON = (
    b'{"version": "https://jsonfeed.org/version/1.1", "language": "en", "items": '
    b'[{"id": "1", "title": "x"}, {"id": "2", "title": "y", "language": "fr"}]}'
)


@pytest.mark.parametrize("reader", ["auto", "feedparser"])
@pytest.mark.parametrize(
    ("body", "languages"), [(RSS, ["fr-FR"]), (ATOM, ["es", "de"]), (JSON, ["en", "fr"])], ids=["rss", "atom", "json"]
)
def test_items_carry_the_language_declared(body: bytes, languages: list[str], reader: str) -> None:
    document = parse_document(body, {}, "http://127.0.0.1/feed", reader=reader)  # type: ignore[arg-type]
    assert [e.language for e in document.entries] == languages


def _entry(title: str, language: str | None) -> ParsedEntry:
    published = datetime(2026, 3, 1, tzinfo=UTC)
    return ParsedEntry("i", "h", "c", title, None, published, None, title, language=language)


def test_the_feeds_lang_wins_then_the_items_then_detection() -> None:
    # "mars 2027": a month in French; in English "mars" is a verb and no date is read
    french = "Le chantier reprendra en mars 2027 selon la direction"
    assert [s.mention.text for s in stated_dates(_entry(french, None), "fr")[0]] == ["mars 2027"]
    assert stated_dates(_entry(french, "fr-FR"), None)[1] == "fr"
    assert stated_dates(_entry(french, "fr-FR"), "en")[1] == "en"
    assert stated_dates(_entry(french, None), None)[1] == "fr"  # detected
    assert stated_dates(_entry(french, "xx"), None)[1] == "fr"  # a language not read: detected
