"""A Slack incoming-webhook body from a notice: Block Kit within Slack's documented limits.

    text     the fallback (notifications, old clients): headline and sentence, at most 3,000
    header   the headline, at most 150
    section  the sentence, at most 3,000
    section  the facts as fields: at most 10, each at most 2,000
    section  the link, `<url|Open example.org>`
    context  what kind of notice, and when

Every string from a notice goes through `escape`: `&`, `<` and `>` become entities, so data can
never write `<!channel>`, `<!here>`, `<!everyone>`, `<@U…>`, `<#C…>` or a link of its own; an `@`
is followed by a zero-width space. A link's URL is one `safe_url` accepts, with `&` as `&amp;`,
and its label is escaped like any text (a `|` or `>` in it cannot end the link).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from alerts.message import Message, type_words
from alerts.render import ZWSP, fit, human, safe_url, timestamp, units

TEXT = 3000
HEADER = 150
SECTION = 3000
FIELDS = 10
FIELD = 2000
LABEL = 100
BLOCKS = 50
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "@": "@" + ZWSP}


def escape(c: str) -> str:
    """One character as Slack mrkdwn shows it literally."""
    return _ENTITIES.get(c, c)


def link(url: str | None) -> str | None:
    """`<url|Open host>` for a safe URL, else None."""
    found = safe_url(url)
    if found is None:
        return None
    host = urlsplit(found).hostname or found
    label = fit(f"Open {host}", 200, escape).replace("|", "¦")
    return f"<{found.replace('&', '&amp;')}|{label}>"


def body(message: Message, notice_type: str, when: Any) -> dict[str, Any]:
    """The JSON body for Slack of a notice of type `notice_type` made at `when` (its `timestamp`)."""
    headline = message.headline.strip() or "Notice"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": fit(headline, HEADER, escape), "emoji": True}}
    ]
    if message.text.strip():
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit(message.text, SECTION, escape)}})
    fields = [
        {"type": "mrkdwn", "text": _field(label, value)}
        for label, value in message.facts[:FIELDS]
        if label.strip() and value.strip()
    ]
    if fields:
        blocks.append({"type": "section", "fields": fields})
    anchor = link(message.link)
    if anchor is not None:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": anchor}})
    moment = timestamp(when)
    about = type_words(notice_type) + (f" · {human(moment)}" if moment else "")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": fit(about, SECTION, escape)}]})
    fallback = headline + (f": {message.text}" if message.text.strip() else "")
    return {"text": fit(fallback, TEXT, escape), "blocks": blocks[:BLOCKS]}


def _field(label: str, value: str) -> str:
    name = fit(label.strip(), LABEL, escape)
    return f"*{name}*\n{fit(value.strip(), FIELD - units(name) - 3, escape)}"
