"""OPML as other readers write it (tests/feeds/opml: NetNewsWire, Miniflux, Inoreader, Feedly,
Liferea, Thunderbird styles, hand-written and broken files), compared with listparser on the same
bytes, and export → import round trips."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import listparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timeline.config.feeds import FeedSpec
from timeline.errors import ConfigError
from timeline.feeds.opml import export_opml, read_opml

CORPUS = Path(__file__).parent / "opml"
NOW = datetime(2026, 12, 3, tzinfo=UTC)


def _read(name: str) -> tuple[list[tuple[str, str, tuple[str, ...]]], list[str], list[str]]:
    path = CORPUS / name
    document = read_opml(path.read_bytes(), path)
    return [(f.url, f.title, f.tags) for f in document.feeds], document.notes, document.warnings


def test_netnewswire_folders_and_a_feed_in_two_of_them() -> None:
    feeds, notes, warnings = _read("netnewswire.opml")
    assert feeds == [
        ("https://daringfireball.net/feeds/main", "Daring Fireball", ()),
        ("https://feeds.arstechnica.com/arstechnica/index", "Ars Technica", ("Technology", "Data centres")),
        ("https://www.theverge.com/rss/index.xml", "The Verge -  All Posts", ("Technology",)),
    ]
    assert notes == warnings == []


def test_feedly_text_is_the_name_and_feed_urls_are_read_as_http() -> None:
    feeds, _, _ = _read("feedly.opml")
    assert feeds == [
        ("https://feeds.bbci.co.uk/news/rss.xml", "BBC", ("News", "Must read")),
        ("http://feeds.reuters.com/reuters/businessNews", "Reuters Business", ("News",)),
    ]


def test_nested_folders_keep_their_whole_path() -> None:
    feeds, _, _ = _read("inoreader.opml")
    assert [(title, tags) for _, title, tags in feeds] == [
        ("Engadget", ("Tech",)),
        ("Anthropic news", ("Tech/AI",)),
        ("Le Monde \u2013 Économie", ()),
    ]
    thunderbird, _, _ = _read("thunderbird.opml")
    assert [tags for _, _, tags in thunderbird] == [("Blogs & News Feeds",), ("Blogs & News Feeds/Release notes",)]
    miniflux, _, _ = _read("miniflux.opml")
    assert [tags for _, _, tags in miniflux] == [("All",), ("Energy & Grid",), ("Energy & Grid",)]


def test_liferea_lists_and_special_folders_are_not_feeds() -> None:
    feeds, notes, _ = _read("liferea.opml")
    assert [url for url, _, _ in feeds] == [
        "https://planet.gnome.org/atom.xml",
        "https://lzone.de/liferea/blog/feed.xml",
        "https://example.org/team.xml",
    ]
    assert notes == [
        f"{CORPUS / 'liferea.opml'}:11: skipped 'Shared subscriptions': "
        'type="source" is a subscription list, not a feed'
    ]


def test_attribute_names_in_any_case_categories_and_skipped_outlines() -> None:
    feeds, notes, _ = _read("attributes-in-any-case.opml")
    assert feeds == [
        ("https://example.org/upper.xml", "Upper case", ()),
        ("https://example.org/mixed.xml", "Mixed case", ()),
        ("https://example.org/lower.xml", "Only a title", ("news/tech", "python", "energy/grid")),
    ]
    where = CORPUS / "attributes-in-any-case.opml"
    assert notes == [
        f"{where}:8: skipped 'Web page only': it has a web page (htmlUrl) but no feed URL (xmlUrl)",
        f"{where}:9: skipped 'Another list': type=\"link\" is a subscription list, not a feed",
        f"{where}:10: skipped 'Not a web feed': its feed URL 'ftp://example.org/feed.xml' is not http(s)",
    ]


def test_html_entities_and_bare_ampersands_are_repaired_with_a_warning_per_line() -> None:
    feeds, _, warnings = _read("html-entities.opml")
    assert feeds == [
        ("https://example.org/cafe.xml", "Café news", ()),
        ("https://example.org/search?q=a&b=c", "Search results", ()),
    ]
    where = CORPUS / "html-entities.opml"
    assert warnings == [
        f"{where}:4: '&nbsp;' is not an XML entity; read as '\\xa0'",
        f"{where}:6: '&eacute;' is not an XML entity; read as 'é'",
        f"{where}:7: a bare '&' (write '&amp;'); read as '&'",
    ]


def test_a_file_with_broken_tags_gives_the_feeds_that_can_be_read() -> None:
    feeds, _, warnings = _read("broken-tags.opml")
    assert [url for url, _, _ in feeds] == [
        "https://example.org/grid.xml",
        "https://example.org/power.xml",
        "https://example.org/tail.xml",
    ]
    assert warnings == [
        f"{CORPUS / 'broken-tags.opml'}:10: not well-formed XML (mismatched tag); "
        "the outlines that could be found were read"
    ]


# Where we differ from listparser on purpose: `feed:` URLs are read as the http(s) URL they stand
# for, and outlines whose feed URL is not http(s) are skipped (we could never poll them).
def _as_listparser_would_if_it_agreed(url: str) -> str | None:
    if url.startswith("feed://"):
        return "http://" + url[len("feed://") :]
    return url if url.startswith(("http://", "https://")) else None


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.opml")), ids=lambda p: p.name)
def test_the_same_feeds_names_and_folders_as_listparser(path: Path) -> None:
    ours = {f.url: (f.title, set(f.tags)) for f in read_opml(path.read_bytes(), path).feeds}
    theirs = {}
    for feed in listparser.parse(path.read_bytes()).feeds:
        url = _as_listparser_would_if_it_agreed(feed.url)
        if url is not None:
            paths = {"/".join(part for part in c if part) for c in feed.categories}
            theirs[url] = (feed.title, {p for p in paths if p})
    assert ours == theirs


def test_what_is_not_opml_or_declares_entities_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an OPML document"):
        read_opml(b"<html><body><outline xmlUrl='https://a.example/x'/></body></html>", tmp_path / "a.opml")
    with pytest.raises(ConfigError, match="not valid XML"):
        read_opml(b"<opml><body>", tmp_path / "b.opml")
    laughs = b'<?xml version="1.0"?><!DOCTYPE o [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    with pytest.raises(ConfigError, match="declares XML entities, which are refused"):
        read_opml(
            laughs + b'<opml><body><outline text="&b;" xmlUrl="https://a.example/x"/></body></opml>', tmp_path / "c"
        )


@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
@settings(max_examples=300, deadline=None)
def test_any_bytes_give_feeds_or_a_config_error(data: bytes) -> None:
    try:
        document = read_opml(b"<opml><body>" + data, Path("fuzz.opml"))
    except ConfigError:
        return
    assert all(f.url.startswith(("http://", "https://")) for f in document.feeds)


_names = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=30).map(str.strip)
_segments = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="/,"), max_size=12
)


@given(
    st.lists(
        st.tuples(
            _names.filter(bool),
            st.lists(st.lists(_segments.map(str.strip).filter(bool), min_size=1, max_size=3), max_size=3),
        ),
        max_size=6,
    )
)
@settings(max_examples=100, deadline=None)
def test_export_then_import_gives_back_the_same_feeds_names_and_tags(feeds: list[tuple[str, list[list[str]]]]) -> None:
    specs = [
        FeedSpec(
            id=f"f{n}",
            url=f"https://example.org/{n}.xml",
            name=name,
            tags=tuple(dict.fromkeys("/".join(p) for p in paths)),
        )
        for n, (name, paths) in enumerate(feeds)
    ]
    document = read_opml(export_opml(specs, NOW).encode(), Path("export.opml"))
    # The same feeds, names and tags (in their order); the feeds come in folder order.
    assert {f.url: (f.title, f.tags) for f in document.feeds} == {s.url: (s.name, s.tags) for s in specs}
    assert len(document.feeds) == len(specs)
    assert document.notes == document.warnings == []
