"""A Discord webhook body from a notice: one embed within Discord's documented limits.

    title        the headline, at most 256 (linked to `url` when the notice has a safe link)
    description  the sentence, at most 4,096
    fields       the facts: at most 25, names at most 256, values at most 1,024
    footer       what kind of notice, at most 2,048 (plain text: no Markdown there)
    timestamp    when the notice was made
    in all       at most 6,000 characters over title, description, fields and footer

`allowed_mentions: {"parse": []}` tells Discord to ping no one, and the text cannot ping even if
that were ignored: every `@` is followed by a zero-width space (`@everyone` stays readable) and
Markdown characters are escaped with a backslash, so data cannot write a mention, a masked link or
formatting. `url` is set only for an http(s) URL of at most 2,000 characters (`safe_url`): Discord
refuses the whole message over a bad one.
"""

from __future__ import annotations

from typing import Any

from alerts.message import Message, type_words
from alerts.render import ZWSP, fit, safe_url, timestamp, units

TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
TOTAL = 6000
_NAME = 100
"""Fact labels are short; a longer one is cut here, well inside Discord's 256."""
_MARKDOWN = set("\\*_~`|<>#[]")
_COLOURS = {"failing": 0xD93F0B, "disabled": 0xD93F0B, "overdue": 0xD93F0B, "due": 0xE99695, "recovered": 0x0E8A16}
_DEFAULT_COLOUR = 0x1D76DB


def escape(c: str) -> str:
    """One character as Discord Markdown shows it literally, with no mention in it."""
    if c == "@":
        return "@" + ZWSP
    return "\\" + c if c in _MARKDOWN else c


def plain(c: str) -> str:
    """One character of text Discord shows without Markdown (the footer), with no mention in it."""
    return "@" + ZWSP if c == "@" else c


def body(message: Message, notice_type: str, when: Any) -> dict[str, Any]:
    """The JSON body for Discord of a notice of type `notice_type` made at `when` (its `timestamp`)."""
    title = fit(message.headline.strip() or "Notice", TITLE, escape)
    footer = fit(type_words(notice_type), FOOTER, plain)
    facts = [(label.strip(), value.strip()) for label, value in message.facts if label.strip() and value.strip()]
    names = [fit(label, _NAME, escape) for label, _ in facts[:FIELDS]]
    budget = TOTAL - units(title) - units(footer) - sum(units(name) for name in names)
    share = min(FIELD_VALUE, (budget - 500) // len(names)) if names else 0
    values = [fit(value, share, escape) for _, value in facts[: len(names)]]
    room = min(DESCRIPTION, budget - sum(units(value) for value in values))
    embed: dict[str, Any] = {"title": title, "color": _colour(notice_type)}
    if message.text.strip():
        embed["description"] = fit(message.text, room, escape)
    if names:
        embed["fields"] = [
            {"name": name, "value": value, "inline": units(value) <= 40}
            for name, value in zip(names, values, strict=True)
        ]
    embed["footer"] = {"text": footer}
    url = safe_url(message.link)
    if url is not None:
        embed["url"] = url
    moment = timestamp(when)
    if moment is not None:
        embed["timestamp"] = moment.isoformat().replace("+00:00", "Z")
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def _colour(notice_type: str) -> int:
    last = notice_type.rsplit(".", 1)[-1]
    return _COLOURS.get(last, _DEFAULT_COLOUR)
