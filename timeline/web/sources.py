"""What the web layer reads from the feeds module: feed health and the evidence matched to milestones.

Kept behind these two functions so that the pages and the API have one place to change when the
feeds module's read models change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection


def evidence_for(conn: Connection, milestone_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Feed items matched to each of `milestone_ids`, newest first: `{feed, title, link, published}`."""
    return {}


def feeds_health(conn: Connection) -> list[dict[str, Any]]:
    """Every configured feed with its health (last poll, result, error, next poll)."""
    return []
