"""Request bodies: the notice payload as is (`standard`), or Slack and Discord incoming-webhook bodies.

Slack and Discord bodies are built from the payload generically: a title-ish field of `data`, a
window, a link, and the other short fields, whatever the notice is about.
"""

from __future__ import annotations

import json
from typing import Any

FORMATS = ("standard", "slack", "discord")
_TITLE_KEYS = ("title", "name", "summary", "subject", "message")
_LINK_KEYS = ("link", "url", "href")
_MAX_FIELDS = 10
_MAX_VALUE = 300
# Built once: json.dumps with these options would build an encoder on every call (half its cost).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def encode(body: Any) -> str:
    """Compact UTF-8 JSON, exactly as sent and signed."""
    return _ENCODER.encode(body)


def body(fmt: str, payload_json: str) -> str:
    """The request body of a notice whose payload is stored as `payload_json`, in format `fmt`.
    A `standard` body is the stored text itself: engines from `timeline.db` store JSON as `encode`
    writes it, so nothing is decoded and encoded again per delivery."""
    if fmt == "standard":
        return payload_json
    return encode(render(fmt, json.loads(payload_json)))


def render(fmt: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON body to send for a notice `payload` (`{"type", "timestamp", "data"}`) in format `fmt`."""
    if fmt == "standard":
        return payload
    if fmt == "slack":
        return _slack(payload)
    if fmt == "discord":
        return _discord(payload)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _data(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("data")
    return data if isinstance(data, dict) else {}


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _text(value: Any) -> str:
    if isinstance(value, dict):
        if {"start", "end"} <= value.keys():
            return f"{value['start']} → {value['end']}"
        text = ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    elif isinstance(value, list):
        text = ", ".join(_text(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _summary(payload: dict[str, Any]) -> tuple[str, str, str | None, list[tuple[str, str]]]:
    """(heading, title, link, [(field, value)]) of a payload."""
    data = _data(payload)
    kind = str(payload.get("type", "notice"))
    title = _first(data, _TITLE_KEYS) or kind
    link = _first(data, _LINK_KEYS)
    fields: list[tuple[str, str]] = []
    if "window" in data:
        fields.append(("window", _text(data["window"])))
    skipped = {*_TITLE_KEYS, *_LINK_KEYS, "window"}
    for key, value in data.items():
        if key in skipped or value is None or value == [] or value == {}:
            continue
        if len(fields) >= _MAX_FIELDS:
            break
        fields.append((key.replace("_", " "), _text(value)))
    return kind, title, link, fields


def _slack(payload: dict[str, Any]) -> dict[str, Any]:
    kind, title, link, fields = _summary(payload)
    heading = f"<{link}|{title}>" if link else title
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{heading}*"}},
    ]
    if fields:
        blocks.append(
            {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]}
        )
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"`{kind}` · {payload.get('timestamp', '')}"}]}
    )
    return {"text": f"{kind}: {title}", "blocks": blocks}


def _discord(payload: dict[str, Any]) -> dict[str, Any]:
    kind, title, link, fields = _summary(payload)
    embed: dict[str, Any] = {
        "title": title[:256],
        "fields": [
            {"name": name[:256], "value": value[:1024] or "-", "inline": len(value) < 40} for name, value in fields
        ],
        "footer": {"text": kind},
    }
    if link:
        embed["url"] = link
    if isinstance(payload.get("timestamp"), str):
        embed["timestamp"] = payload["timestamp"]
    return {"content": f"**{kind}**: {title}"[:2000], "embeds": [embed]}
