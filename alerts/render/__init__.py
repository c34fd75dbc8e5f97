"""Chat bodies from a notice's `Message`: Slack (`alerts.render.slack`) and Discord
(`alerts.render.discord`), each within every limit its service documents.

What both share is here: lengths counted as those services count them (UTF-16 code units, so an
emoji outside the Basic Multilingual Plane counts two), and `fit`, which escapes a text character
by character and cuts it to a limit with an ellipsis. Escaping each character on its own means a
cut never splits an escape sequence (`&amp;`, `\\*`) and never a surrogate pair.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from alerts.message import web_link

ELLIPSIS = "…"
ZWSP = "\u200b"
"""Put after every `@`: `@everyone` can never ping, even where mentions are parsed."""
MAX_URL = 2000
_SAFE_URL = re.compile(r"^https?://[!#-;=?-\[\]_a-z~%]+$", re.IGNORECASE)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def units(text: str) -> int:
    """The length of `text` in UTF-16 code units: what Slack and Discord limits count, at most."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def fit(text: str, limit: int, escape: Callable[[str], str]) -> str:
    """`text` with each character escaped by `escape`, cut to at most `limit` units with an ellipsis."""
    pieces = [escape(c) for c in text]
    if sum(units(p) for p in pieces) <= limit:
        return "".join(pieces)
    kept: list[str] = []
    used = units(ELLIPSIS)
    for piece in pieces:
        size = units(piece)
        if used + size > limit:
            break
        kept.append(piece)
        used += size
    return "".join(kept).rstrip() + ELLIPSIS


def safe_url(value: str | None) -> str | None:
    """`value` when it is an http(s) URL of plain ASCII URL characters with a host, at most
    `MAX_URL` characters: one that a chat service takes as a link and that cannot end a link's
    markup early (no `<`, `>`, `|`, quotes, spaces). Else None."""
    url = web_link(value)
    if url is None or len(url) > MAX_URL or not _SAFE_URL.match(url):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return url if host else None


def timestamp(value: object) -> datetime | None:
    """A payload's `timestamp` as an aware UTC instant, or None when it is not ISO 8601."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def human(moment: datetime) -> str:
    """`3 Dec 2026, 09:00 UTC`."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} UTC"
