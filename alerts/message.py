"""A notice's words for people: a headline, one plain sentence, a few facts, a link.

The service that publishes a notice writes its message once (`timeline.wording` for timeline's
notices; this package for its own, `subscription.disabled` and `test.ping`) and carries it in the
payload as `data["message"]`:

    {"headline": "...", "text": "...", "facts": [{"label": "...", "value": "..."}], "link": "https://..."}

Every human surface renders that one message in its own way and within its own limits: Slack and
Discord here (`alerts.formats`), and the Atom feed, the page and the CLI in `timeline`. Receivers of
the `standard` format get it too, beside the machine fields.

`message_of` reads it back from any payload without raising: a payload stored before messages
existed, or one whose message is damaged, gets a plain one made from its type and summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_FACTS = 6
"""A message carries at most this many facts: more is a table, not a notice."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_ISO_INSTANT = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
OWN_TYPES = ("subscription.disabled", "test.ping")
"""The notice types this package makes itself, worded by `own_message`."""


@dataclass(frozen=True)
class Message:
    """The words of one notice. `facts` are (label, value) pairs in reading order; `link` is an
    http(s) URL or None. Build with `Message.of` to get the hygiene `message_of` applies."""

    headline: str
    text: str = ""
    facts: tuple[tuple[str, str], ...] = ()
    link: str | None = None

    @classmethod
    def of(
        cls, headline: str, text: str = "", facts: Iterable[tuple[str, str]] = (), link: str | None = None
    ) -> Message:
        """A message with control characters and lone surrogates replaced, empty facts dropped, at
        most `MAX_FACTS` facts, and a link kept only if it is http(s)."""
        kept = tuple((clean(label), clean(value)) for label, value in facts if label and value)
        return cls(clean(headline), clean(text), kept[:MAX_FACTS], web_link(link))

    def as_dict(self) -> dict[str, Any]:
        """The JSON form carried as a payload's `data["message"]`."""
        return {
            "headline": self.headline,
            "text": self.text,
            "facts": [{"label": label, "value": value} for label, value in self.facts],
            "link": self.link,
        }


def clean(text: str) -> str:
    """`text` with control characters (but tab and newline) and lone surrogates made U+FFFD: what no
    surface can show, and what PostgreSQL or a JSON encoder may refuse."""
    return _CONTROL.sub("\ufffd", text) if _CONTROL.search(text) else text


def web_link(value: Any) -> str | None:
    """`value` if it is an http(s) URL without spaces or control characters, else None."""
    if not isinstance(value, str) or not value.lower().startswith(("http://", "https://")):
        return None
    if any(c.isspace() or c in "\x7f" or ord(c) < 32 for c in value):
        return None
    return value


def message_of(payload: Any) -> Message:
    """The message of a notice `payload` (`{"type", "timestamp", "data"}`), or a plain one made from
    its `data["title"]` (else its type) and `data["summary"]` when it carries none that is usable;
    this package's own types are worded by `own_message`. Never raises."""
    data = payload.get("data") if isinstance(payload, dict) else None
    data = data if isinstance(data, dict) else {}
    carried = data.get("message")
    if isinstance(carried, dict) and isinstance(carried.get("headline"), str) and carried["headline"].strip():
        text = carried.get("text")
        text = text if isinstance(text, str) else ""
        return Message.of(carried["headline"], text, _facts(carried.get("facts")), carried.get("link"))
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind in OWN_TYPES:
        return own_message(kind, data)
    title = data.get("title")
    if isinstance(title, str) and title.strip():
        headline = title.strip()
    else:
        headline = type_words(kind) if isinstance(kind, str) and kind else "Notice"
    summary = data.get("summary")
    return Message.of(headline, summary if isinstance(summary, str) else "", (), data.get("link"))


def _facts(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    return [
        (item["label"], item["value"])
        for item in value
        if isinstance(item, dict) and isinstance(item.get("label"), str) and isinstance(item.get("value"), str)
    ]


def type_words(notice_type: str) -> str:
    """A notice type as words, for a message that has none: `feed.item_matched` → "Feed item matched"."""
    words = clean(notice_type).replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Notice"


def _text(data: dict[str, Any], key: str, default: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) and value.strip() else default


def _instant(match: re.Match[str]) -> str:
    try:
        moment = datetime.fromisoformat(match[0].replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return match[0]
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} UTC"


def human_instants(text: str) -> str:
    """`text` with ISO instants written as people read them: `since 2026-12-01T10:00:00+00:00` →
    `since 1 Dec 2026, 10:00 UTC`."""
    return _ISO_INSTANT.sub(_instant, text)


def own_message(notice_type: str, data: dict[str, Any]) -> Message:
    """The message of a notice this package makes (`OWN_TYPES`), from its `data`. Never raises."""
    subscription = _text(data, "subscription_id", "a subscription")
    if notice_type == "subscription.disabled":
        host = _text(data, "host", "its receiver")
        reason = human_instants(_text(data, "reason", "it kept failing"))
        return Message.of(
            f"Webhook {subscription} disabled",
            f"Deliveries to {host} have stopped: {reason}. Fix the receiver, then turn the subscription back on.",
            [("Subscription", subscription), ("Receiver", host), ("Reason", reason)],
        )
    return Message.of(
        "Test notice: this webhook works",
        f"A signed test notice for subscription {subscription} reached this receiver.",
        [("Subscription", subscription)],
    )
