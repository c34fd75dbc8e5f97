"""The words of a proposal, for people: the `milestone.slip_reported` message, and the lines the
CLI, the page and the Atom feed show. Built from facts with `alerts.message.Message`."""

from __future__ import annotations

from typing import Any

from alerts.message import Message
from timeline import humanize
from timeline.dates import Window

FIELD_WORDS = {"when": "date", "starts": "start", "ends": "end"}


def slip_words(slip_days: int) -> str:
    """`184 days later`, `30 days earlier`, `the same day`."""
    if slip_days == 0:
        return "the same day"
    return f"{humanize.plural(abs(slip_days), 'day')} {'later' if slip_days > 0 else 'earlier'}"


def change_words(field: str, current: Window, proposed: Window) -> str:
    """`end Q4 2027 → H1 2028`."""
    return f"{FIELD_WORDS.get(field, field)} {humanize.short_window(current)} → {humanize.short_window(proposed)}"


def slip_message(
    title: str, field: str, current: Window, proposed: Window, slip_days: int, evidence: dict[str, Any]
) -> Message:
    """The message of `milestone.slip_reported`: which date, from what to what, and the sentence
    that says so, linked to the article."""
    what = FIELD_WORDS.get(field, field)
    source = evidence.get("feed_name") or evidence.get("feed_id") or "A feed"
    text = (
        f"{source} gives its {what} as {humanize.window(proposed)}, not {humanize.window(current)} "
        f"({slip_words(slip_days)}): “{evidence.get('sentence', '')}”"
    )
    facts = [
        ("Now", humanize.window(current)),
        ("Proposed", humanize.window(proposed)),
        ("Slip", slip_words(slip_days)),
        ("Article", evidence.get("title") or ""),
        ("Feed", source),
    ]
    return Message.of(f"Slip reported: {title}", text, facts, evidence.get("link"))
