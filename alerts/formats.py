"""Request bodies: the notice payload as is (`standard`), or Slack and Discord incoming-webhook bodies.

Slack and Discord bodies render the notice's message (`alerts.message.message_of`: the headline,
sentence, facts and link its publisher wrote once), each within its service's limits and with its
own escaping (`alerts.render.slack`, `alerts.render.discord`). No payload field reaches a chat
message except through that message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from alerts.message import message_of
from alerts.render import discord, slack

FORMATS = ("standard", "slack", "discord")
# Built once: json.dumps with these options would build an encoder on every call (half its cost).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_TYPE = re.compile(r"^[a-z0-9_.-]{1,100}$")


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
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    message = message_of(payload)
    kind = payload.get("type") if isinstance(payload, dict) else None
    notice_type = kind if isinstance(kind, str) and _TYPE.match(kind) else "notice"
    when = payload.get("timestamp") if isinstance(payload, dict) else None
    if fmt == "slack":
        return slack.body(message, notice_type, when)
    return discord.body(message, notice_type, when)
