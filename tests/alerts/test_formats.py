"""Bodies: compact UTF-8 JSON, and Slack/Discord bodies rendered from the notice's message within
every limit those services document, with nothing in the data able to mention anyone."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.formats import body, encode, render
from alerts.message import Message
from alerts.render import fit, units

MESSAGE = Message.of(
    "Construction ends in Malmö",
    "Construction was expected by the end of 2027 (1 Jan – 31 Dec 2027) and is still planned.",
    [("When", "2025 → 2027"), ("Status", "planned")],
    "https://example.org/article?a=1&b=2",
)
PAYLOAD = {
    "type": "milestone.due",
    "timestamp": "2027-12-31T23:00:00Z",
    "data": {
        "title": "Construction ends in Malmö",
        "window": {"text": "2025 → 2027", "opens_at": "2025-01-01T00:00:00Z", "due_at": "2028-01-01T00:00:00Z"},
        "days_until_due": -336,
        "stage": "1",
        "summary": "machine summary",
        "message": MESSAGE.as_dict(),
    },
}


def test_standard_is_the_payload_as_compact_utf8_json() -> None:
    text = encode(render("standard", PAYLOAD))
    assert text.startswith('{"type":"milestone.due","timestamp"')
    assert "Malmö" in text
    assert json.loads(text) == PAYLOAD
    assert body("standard", text) == text


def test_slack_renders_the_message_and_nothing_else_of_the_data() -> None:
    slack = render("slack", PAYLOAD)
    assert slack["text"].startswith("Construction ends in Malmö: Construction was expected")
    header, section, fields, link, context = slack["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Construction ends in Malmö", "emoji": True},
    }
    assert section["text"]["text"] == MESSAGE.text
    assert [f["text"] for f in fields["fields"]] == ["*When*\n2025 → 2027", "*Status*\nplanned"]
    assert link["text"]["text"] == "<https://example.org/article?a=1&amp;b=2|Open example.org>"
    assert context["elements"][0]["text"] == "Milestone due · 31 Dec 2027, 23:00 UTC"
    text = json.dumps(slack)
    for machine in ("days_until_due", "-336", "opens_at", "stage", "machine summary", "True", "False", "None"):
        assert machine not in text


def test_discord_renders_one_embed_that_mentions_no_one() -> None:
    discord = render("discord", PAYLOAD)
    assert discord["allowed_mentions"] == {"parse": []}
    assert "content" not in discord
    (embed,) = discord["embeds"]
    assert embed["title"] == "Construction ends in Malmö"
    assert embed["description"] == MESSAGE.text
    assert embed["url"] == "https://example.org/article?a=1&b=2"
    assert embed["fields"] == [
        {"name": "When", "value": "2025 → 2027", "inline": True},
        {"name": "Status", "value": "planned", "inline": True},
    ]
    assert embed["footer"] == {"text": "Milestone due"}
    assert embed["timestamp"] == "2027-12-31T23:00:00Z"


def test_a_payload_without_message_is_worded_from_its_type_and_summary() -> None:
    payload = {"type": "feed.failing", "timestamp": "x", "data": {"summary": "dc fails", "error": "x" * 5000}}
    embed = render("discord", payload)["embeds"][0]
    assert (embed["title"], embed["description"]) == ("Feed failing", "dc fails")
    assert "timestamp" not in embed and "url" not in embed and "fields" not in embed


def test_the_issue_cases_cannot_ping_or_break_a_link() -> None:
    hostile = Message.of(
        "Alert: <!channel> @everyone <@U123> <#C42|x>", "a & b < c > d | e", link="javascript:alert(1)"
    )
    payload = {"type": "feed.item_matched", "timestamp": "2026-01-01T00:00:00Z", "data": {"message": hostile.as_dict()}}
    slack = render("slack", payload)
    assert (
        slack["blocks"][0]["text"]["text"]
        == "Alert: &lt;!channel&gt; @\u200beveryone &lt;@\u200bU123&gt; &lt;#C42|x&gt;"
    )
    assert slack["blocks"][1]["text"]["text"] == "a &amp; b &lt; c &gt; d | e"
    assert not any(b["type"] == "section" and "<" in b.get("text", {}).get("text", "") for b in slack["blocks"])
    embed = render("discord", payload)["embeds"][0]
    assert embed["title"] == "Alert: \\<!channel\\> @\u200beveryone \\<@\u200bU123\\> \\<\\#C42\\|x\\>"
    assert "url" not in embed
    long_link = Message.of("x", link="https://example.org/" + "a" * 3600)
    long = {"type": "x", "data": {"message": long_link.as_dict()}}
    assert "url" not in render("discord", long)["embeds"][0]
    assert len(render("slack", long)["blocks"]) == 2  # header and context: no link over 2,000 characters


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("a & b", 5, "a…"),  # never `a &am…`: an escape is kept whole or left out
        ("a & b", 8, "a &amp;…"),
        ("a & b", 9, "a &amp; b"),
        ("😀😀😀", 5, "😀😀…"),  # an emoji is two units and is never split
        ("abc", 3, "abc"),
    ],
)
def test_fit_cuts_whole_escapes_and_characters(text: str, limit: int, expected: str) -> None:
    cut = fit(text, limit, lambda c: "&amp;" if c == "&" else c)
    assert cut == expected
    assert units(cut) <= limit


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format 'teams'"):
        render("teams", PAYLOAD)


# --- property: hostile data through the whole path, payload JSON → body JSON --------------------

HOSTILE = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U024BE7LH>",
        "<#C024BE7LH>",
        "<!subteam^S123>",
        "&lt;!channel&gt;",
        "@everyone",
        "@here",
        "<@&123456>",
        "<@123456>",
        "[click](https://evil.example)",
        "<https://evil.example|label>",
        "*_~`|>#",
        "&amp;",
        "\x00",
        "\u202eevil\u202c",
        "مرحبا بالعالم",
        "👩‍👩‍👧‍👦",
        "😀",
        "\ud800",
        "\udfff",
        "x" * 10_000,
        "&" * 5000,
        "@" * 3000,
    ]
)
TEXT = st.lists(
    st.one_of(HOSTILE, st.text(max_size=50), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)), max_size=6
).map("".join)
LINKS = st.one_of(
    st.none(),
    TEXT,
    st.sampled_from(["javascript:alert(1)", "https://example.org/a|b>c", "https://ex.org/" + "a" * 3000, "http://"]),
    st.text(max_size=30).map(lambda t: "https://example.org/" + t),
)
MESSAGES = st.fixed_dictionaries(
    {
        "headline": TEXT,
        "text": TEXT,
        "facts": st.lists(st.fixed_dictionaries({"label": TEXT, "value": TEXT}), max_size=12),
        "link": LINKS,
    }
)
PAYLOADS = st.fixed_dictionaries(
    {
        "type": st.one_of(
            TEXT, st.sampled_from(["milestone.due", "feed.item_matched", "test.ping", "subscription.disabled"])
        ),
        "timestamp": st.one_of(TEXT, st.just("2026-12-03T09:00:00Z")),
        "data": st.fixed_dictionaries(
            {},
            optional={
                "message": MESSAGES,
                "summary": TEXT,
                "title": TEXT,
                "link": LINKS,
                "reason": TEXT,
                "subscription_id": TEXT,
                "host": TEXT,
            },
        ),
    }
)
_LINK = re.compile(r"<https?://[^<>|\s]+\|[^<>]*>")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _sent(fmt: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The body exactly as it goes on the wire: stored payload JSON in, UTF-8 bytes out."""
    wire = body(fmt, json.dumps(payload)).encode("utf-8")
    found = json.loads(wire)
    assert isinstance(found, dict)
    return found


def _check_slack(slack: dict[str, Any]) -> None:
    assert 0 < units(slack["text"]) <= 3000
    blocks = slack["blocks"]
    assert 1 <= len(blocks) <= 50
    for block in blocks:
        if block["type"] == "header":
            assert 0 < units(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            if "text" in block:
                assert 0 < units(block["text"]["text"]) <= 3000
            fields = block.get("fields", [])
            assert len(fields) <= 10
            assert all(0 < units(f["text"]) <= 2000 for f in fields)
        else:
            assert block["type"] == "context"
            assert all(units(e["text"]) <= 3000 for e in block["elements"])
    for text in _strings(slack):
        rest = _LINK.sub("", text)
        assert "<" not in rest and ">" not in rest, text  # no `<!channel>`, `<@U…>`, `<#C…>`, no link of data's own
        assert not re.search(r"@(channel|here|everyone)", text)


def _check_discord(discord: dict[str, Any]) -> None:
    assert discord["allowed_mentions"] == {"parse": []}
    assert len(discord.get("content", "")) <= 2000
    (embed,) = discord["embeds"]
    assert 0 < units(embed["title"]) <= 256
    assert units(embed.get("description", "")) <= 4096
    fields = embed.get("fields", [])
    assert len(fields) <= 25
    assert all(0 < units(f["name"]) <= 256 and 0 < units(f["value"]) <= 1024 for f in fields)
    assert 0 < units(embed["footer"]["text"]) <= 2048
    total = embed["title"] + embed.get("description", "") + embed["footer"]["text"]
    total += "".join(f["name"] + f["value"] for f in fields)
    assert units(total) <= 6000
    if "url" in embed:
        assert embed["url"].startswith(("http://", "https://")) and len(embed["url"]) <= 2000
    for text in _strings(discord):
        assert "@everyone" not in text and "@here" not in text
        assert not re.search(r"(?<!\\)<[@#]", text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAYLOADS)
def test_every_slack_body_is_within_limits_and_mentions_no_one(payload: dict[str, Any]) -> None:
    _check_slack(_sent("slack", payload))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PAYLOADS)
def test_every_discord_body_is_within_limits_and_mentions_no_one(payload: dict[str, Any]) -> None:
    _check_discord(_sent("discord", payload))
