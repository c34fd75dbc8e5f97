"""Bodies: compact UTF-8 JSON, and Slack/Discord bodies built from any payload."""

from __future__ import annotations

import json

import pytest

from alerts.formats import encode, render

PAYLOAD = {
    "type": "milestone.due",
    "timestamp": "2027-12-31T23:00:00Z",
    "data": {
        "title": "Construction ends in Malmö",
        "window": {"start": "2027-01-01", "end": "2028-01-01"},
        "link": "https://example.org/article",
        "tags": ["google", "iowa"],
        "investment_usd": 1500000000,
        "empty": None,
    },
}


def test_standard_is_the_payload_as_compact_utf8_json() -> None:
    body = encode(render("standard", PAYLOAD))
    assert body.startswith('{"type":"milestone.due","timestamp"')
    assert "Malmö" in body
    assert ", " not in body and ": " not in body.replace("Construction ends in Malmö", "")
    assert json.loads(body) == PAYLOAD


def test_slack_has_text_and_blocks() -> None:
    body = render("slack", PAYLOAD)
    assert body["text"] == "milestone.due: Construction ends in Malmö"
    assert "<https://example.org/article|Construction ends in Malmö>" in body["blocks"][0]["text"]["text"]
    fields = [f["text"] for f in body["blocks"][1]["fields"]]
    assert fields[0] == "*window*\n2027-01-01 → 2028-01-01"
    assert "*tags*\ngoogle, iowa" in fields
    assert not any("empty" in f for f in fields)
    assert body["blocks"][-1]["type"] == "context"


def test_discord_has_content_and_an_embed() -> None:
    body = render("discord", PAYLOAD)
    assert body["content"] == "**milestone.due**: Construction ends in Malmö"
    embed = body["embeds"][0]
    assert embed["title"] == "Construction ends in Malmö"
    assert embed["url"] == "https://example.org/article"
    assert {"name": "window", "value": "2027-01-01 → 2028-01-01", "inline": True} in embed["fields"]
    assert embed["timestamp"] == "2027-12-31T23:00:00Z"


def test_a_payload_without_title_falls_back_to_its_type() -> None:
    body = render("discord", {"type": "feed.failing", "timestamp": "x", "data": {"feed": "dc", "error": "x" * 5000}})
    assert body["embeds"][0]["title"] == "feed.failing"
    assert all(len(f["value"]) <= 1024 for f in body["embeds"][0]["fields"])
    assert "url" not in body["embeds"][0]


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render("teams", PAYLOAD)
