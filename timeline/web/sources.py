"""What the web layer reads from the feeds module: feed health as JSON-able dicts (instants in the
API's `...Z` form)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from timeline.dates import utc_text
from timeline.feeds import health


def _iso(moment: datetime | None) -> str | None:
    return utc_text(moment) if moment is not None else None


def feeds_health(conn: Connection, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    """Every feed with its polling health."""
    return [
        f.as_dict()
        | {
            "last_success_at": _iso(f.last_success_at),
            "last_polled_at": _iso(f.last_polled_at),
            "next_poll_at": _iso(f.next_poll_at),
            "failing_since": _iso(f.failing_since),
        }
        for f in health.feed_health(conn, include_inactive=include_inactive)
    ]
