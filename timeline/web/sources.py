"""What the web layer reads from the feeds module: feed health and the evidence matched to milestones,
as JSON-able dicts (instants in the API's `...Z` form)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from timeline.feeds import health, ingest
from timeline.rules import iso


def _iso(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def evidence_for(conn: Connection, milestone_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Feed items matched to each of `milestone_ids`, newest first."""
    found = ingest.evidence_for(conn, milestone_ids)
    return {
        milestone_id: [
            e.as_dict() | {"feed": e.feed_name, "published": _iso(e.published), "matched_at": iso(e.matched_at)}
            for e in items
        ]
        for milestone_id, items in found.items()
    }


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
