"""Parsing fetched bytes: which parser reads what, what is stored of an item, and documents that
must not fail whole (JSON Feed, lone surrogates, NULs, URLs, hostile sizes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tests.feeds.builders import Item, add_feeds, rss, spec
from tests.feeds.conftest import NOW
from tests.feeds.server import LocalServer, static
from timeline.feeds.ingest import ENTRIES
from timeline.feeds.match import Rule
from timeline.feeds.parse import MAX_ENTRIES, Document, parse_document
from timeline.feeds.poll import poll_due
from timeline.settings import Settings

DOCUMENTS = Path(__file__).parent / "documents"
URL = "https://news.example.org/feed.json"


def _both(body: bytes, headers: dict[str, str] | None = None) -> tuple[Document, Document]:
    """The document as read first by feedparser-rs, and as read by feedparser alone."""
    return parse_document(body, headers or {}, URL), parse_document(body, headers or {}, URL, reader="feedparser")


def _atom(*entries: str) -> bytes:
    head = '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
    return (head + "".join(entries) + "</feed>").encode()


@pytest.mark.parametrize(
    ("body", "title"),
    [
        (rss(Item("</example>", guid="1")), "</example>"),
        (rss(Item("AT&T <script>alert(1)</script> & more", guid="1")), "AT&T <script>alert(1)</script> & more"),
        (rss(Item("<b>Bold</b> &amp; co", guid="1")), "Bold & co"),
        (
            _atom('<entry><id>1</id><title type="text">Use &lt;div&gt; for layout</title></entry>'),
            "Use <div> for layout",
        ),
        (
            _atom('<entry><id>1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; &amp;amp; co</title></entry>'),
            "Bold & co",
        ),
        (_atom("<entry><id>1</id><title>  spaced\n  out  </title></entry>"), "spaced out"),
    ],
)
def test_a_title_is_stored_as_feedparser_gives_it_and_html_ones_as_their_text(body: bytes, title: str) -> None:
    """Plain-text titles are neither stripped of tags nor decoded twice (`</example>` stays);
    titles that are HTML (declared, or recognised in RSS as feedparser does) keep their text."""
    fast, oracle = _both(body)
    assert fast.parser == "feedparser-rs" and oracle.parser == "feedparser"
    assert [e.title for e in fast.entries] == [e.title for e in oracle.entries] == [title]


def test_items_repeating_a_guid_with_other_links_are_distinct_and_the_same_link_is_one() -> None:
    body = rss(
        Item("First", guid="same", link="http://example.com/1"),
        Item("Second", guid="same", link="http://example.com/2"),
        Item("Second again", guid="same", link="http://example.com/2"),
        Item("Alone", guid="alone", link="http://example.com/3"),
        Item("Twice", guid="twice", link="http://example.com/4"),
        Item("Twice", guid="twice", link="http://example.com/4"),
    )
    for document in _both(body):
        identities = [e.identity for e in document.entries]
        assert identities == [
            "same http://example.com/1",
            "same http://example.com/2",
            "same http://example.com/2",
            "alone",
            "twice",
            "twice",
        ]
        aliases = {e.identity: e.alias_hash for e in document.entries}
        assert aliases["alone"] is None and aliases["same http://example.com/1"] is not None


def test_json_feed_1_1_items_as_the_spec_defines_them() -> None:
    document = parse_document((DOCUMENTS / "jsonfeed-1.1.json").read_bytes(), {}, URL)
    assert (document.parser, document.version, document.title, document.error) == (
        "json",
        "json11",
        "Data centre news",
        None,
    )
    first, second, third, fourth = document.entries
    assert first.identity == "https://news.example.org/2026/anthropic-texas"
    assert first.title == "Anthropic & partners: a <new> data centre"  # plain text, kept as written
    assert first.published == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert first.summary == "Construction of a data centre in Texas."
    assert "Construction starts in 2026" in first.text and "<b>" not in first.text
    assert second.identity == "1234"  # a number, coerced to a string as the spec asks
    assert second.link == "https://news.example.org/2026/iowa"  # relative, resolved against the feed
    assert second.title is None and second.summary == "Google puts 1.5 billion into Iowa.<br>More to come."
    assert second.published == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert (third.identity, third.link) == ("linked", "https://elsewhere.example.com/story")
    assert fourth.identity.startswith("hash:") and fourth.title == "No id, no url"
    assert [(s.position, s.reason) for s in document.skipped] == [(3, "item is a JSON str, not an object")]


def test_json_feed_1_0_and_an_unreadable_date() -> None:
    document = parse_document((DOCUMENTS / "jsonfeed-1.0.json").read_bytes(), {}, URL)
    assert document.version == "json10"
    assert [(e.identity, e.title, e.published) for e in document.entries] == [
        ("a1", "First", datetime(2026, 2, 1, tzinfo=UTC)),
        ("a2", "Second", None),
    ]
    assert document.entries[1].summary == "<p>World</p>"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "not a feed: the JSON is malformed"),
        (b'{"title": "no version", "items": []}', "not a feed: JSON without a JSON Feed version"),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": "none"}',
            "malformed JSON Feed: `items` is not a list",
        ),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "not a feed: the JSON is"),
        (b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": ' + b"9" * 5000 + b"}]}", "not a feed"),
        (b"{\xff\xfe}", "not a feed: the JSON is malformed"),
    ],
)
def test_a_malformed_json_feed_is_an_error_not_a_crash(body: bytes, error: str) -> None:
    document = parse_document(body, {"Content-Type": "application/feed+json"}, URL)
    assert document.entries == () and document.error is not None and document.error.startswith(error)


def test_a_lone_surrogate_or_a_nul_reference_fails_no_document_and_is_never_stored() -> None:
    """`&#xD800;` made feedparser fail the whole document; `&#0;` put a NUL into a title, which
    PostgreSQL refuses. Both become U+FFFD, and the other items are read as usual."""
    body = rss(
        Item("Good one", guid="1"),
        Item("Bad &#xD800; surrogate", guid="2", summary="text &#xdfff; here"),
        Item("Nul &#0; title &#x1F; &#55296;", guid="3"),
        Item("Fine &#233;t&#xE9; &#x1F600;", guid="4"),
    ).replace(b"&amp;#", b"&#")
    for document in _both(body):
        assert document.error is None
        assert [e.title for e in document.entries] == [
            "Good one",
            "Bad \ufffd surrogate",
            "Nul \ufffd title \ufffd \ufffd",
            "Fine été 😀",
        ]
        assert "\ufffd" in (document.entries[1].summary or "")


def test_control_characters_written_raw_are_cleaned_from_every_stored_text() -> None:
    body = rss(Item("Raw\x01control", guid="g\x02", link="http://example.com/\x03", summary="s\x04")).replace(
        b"<rss", b"<rss"
    )
    for document in _both(body):
        for entry in document.entries:
            for text in (entry.title, entry.identity, entry.link, entry.summary, entry.text):
                assert text is None or not any(ord(c) < 9 or 13 < ord(c) < 32 for c in text)


def test_a_document_whose_text_is_a_url_makes_no_request(server: LocalServer) -> None:
    """feedparser-rs fetches a string that looks like a URL; it is only ever given bytes."""
    target = server.route("/target.xml", static(rss(Item("Fetched", guid="f"))))
    for body in (target.encode(), f"  {target}\n".encode(), b"\xef\xbb\xbf" + target.encode()):
        for reader in ("auto", "feedparser"):
            document = parse_document(body, {}, "http://127.0.0.1/feed.xml", reader=reader)  # type: ignore[arg-type]
            assert document.entries == () and document.error is not None
            assert document.error.startswith("not a feed")
    assert server.hits_of("/target.xml") == []


def test_documents_feedparser_rs_cannot_read_as_well_go_to_feedparser() -> None:
    broken = b'<rss version="2.0"><channel><title>T</title><item><title>Kept</title><guid>k</guid></item>'
    based = _atom('<entry xml:base="http://other.example/dir/"><id>rel</id><link href="page"/><title>B</title></entry>')
    latin = '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item><title>Caf\xe9</title>'
    latin += "<guid>c</guid></item></channel></rss>"
    cases = {
        "broken": (broken, {}),
        "xml:base": (based, {}),
        "latin-1": (latin.encode("latin-1"), {}),
        "charset header": (
            rss(Item("Caf\xe9", guid="c")).decode().encode("latin-1"),
            {"Content-Type": "text/xml; charset=iso-8859-1"},
        ),
    }
    found = {name: parse_document(body, headers, URL) for name, (body, headers) in cases.items()}
    assert {name: d.parser for name, d in found.items()} == dict.fromkeys(cases, "feedparser")
    assert [e.title for e in found["broken"].entries] == ["Kept"]
    assert [(e.identity, e.link) for e in found["xml:base"].entries] == [
        ("http://other.example/dir/rel", "http://other.example/dir/page")
    ]
    assert [e.title for e in found["latin-1"].entries] == ["Café"]


def test_relative_links_resolve_against_content_location_then_the_url() -> None:
    body = rss(Item("Relative", guid="r", link="/news/1"))
    assert parse_document(body, {}, "http://site.example/feed.xml").entries[0].link == "http://site.example/news/1"
    moved = parse_document(body, {"Content-Location": "http://cdn.example/x/feed.xml"}, "http://site.example/feed.xml")
    assert moved.entries[0].link == "http://cdn.example/news/1"


def test_a_document_gives_at_most_max_entries() -> None:
    items = "".join(f"<item><guid>{i}</guid></item>" for i in range(MAX_ENTRIES + 5))
    body = f'<rss version="2.0"><channel><title>Many</title>{items}</channel></rss>'.encode()
    assert len(parse_document(body, {}, URL).entries) == MAX_ENTRIES


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_parse_document_never_raises(body: bytes) -> None:
    for reader in ("auto", "feedparser"):
        document = parse_document(body, {"content-type": "application/xml"}, URL, reader=reader)  # type: ignore[arg-type]
        assert (document.error is None) or document.entries == ()


WRAPPED = st.sampled_from(["<rss version='2.0'><channel><item>{}</item></channel></rss>", "{}", "<item>{}</item>"])


@settings(max_examples=200, deadline=None)
@given(WRAPPED, st.text(max_size=200))
def test_any_item_text_is_read_or_refused_never_raised(shape: str, text: str) -> None:
    body = shape.format(f"<title>{text}</title><description>{text}</description>").encode("utf-8", "surrogatepass")
    document = parse_document(body, {}, URL)
    for entry in document.entries:
        assert "\x00" not in (entry.title or "") and "\x00" not in entry.text


def test_a_json_feed_is_polled_matched_and_notified_like_rss(
    sqlite_engine: Engine, settings: Settings, server: LocalServer
) -> None:
    body = (DOCUMENTS / "jsonfeed-1.1.json").read_bytes()
    url = server.route("/feed.json", static(body, headers={"Content-Type": "application/feed+json"}))
    add_feeds(sqlite_engine, spec("json", url, Rule(any=("data centre",)), notify_backlog=True))
    poll = poll_due(sqlite_engine, settings, NOW).feeds[0]
    assert (poll.status, poll.new, poll.matched, len(poll.notices), poll.skipped) == ("ok", 4, 1, 1, 1)
    assert "application/feed+json" in server.hits_of("/feed.json")[0].headers["Accept"]
    with sqlite_engine.connect() as conn:
        links = set(conn.execute(select(ENTRIES.c.link)).scalars())
    assert server.url("/2026/iowa") in links  # relative to where it was fetched from


def test_a_polled_document_whose_text_is_a_url_fetches_nothing_more(
    sqlite_engine: Engine, settings: Settings, server: LocalServer
) -> None:
    target = server.route("/target.xml", static(rss(Item("Fetched", guid="f"))))
    add_feeds(sqlite_engine, spec("url", server.route("/url.xml", static(target.encode()))))
    poll = poll_due(sqlite_engine, settings, NOW).feeds[0]
    assert poll.status == "error" and (poll.error or "").startswith("not a feed")
    assert len(server.hits_of("/url.xml")) == 1 and server.hits_of("/target.xml") == []
