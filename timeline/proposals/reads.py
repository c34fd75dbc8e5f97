"""Reading proposals with their evidence, as the CLI, the API, the page and the Atom feed show them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select

from alerts.message import web_link
from timeline.dates import Precision, Window, parse_window, utc_text
from timeline.feeds.store import FEEDS
from timeline.proposals.record import PROPOSAL_EVIDENCE, PROPOSALS, evidence_data
from timeline.proposals.wording import change_words, slip_words
from timeline.store import MILESTONES

STATUSES = ("open", "accepted", "rejected")
MAX_LISTED = 1000


def window_of(text: str, start: Any, end: Any, timezone: str) -> Window:
    """The stored window: re-read from its text in its zone, else its stored bounds as days."""
    try:
        return parse_window(text, timezone)
    except ValueError:
        return Window(start, end, Precision.DAY, text)


def _evidence(conn: Connection, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {pid: [] for pid in ids}
    if not ids:
        return found
    e = PROPOSAL_EVIDENCE.c
    query = (
        select(PROPOSAL_EVIDENCE, FEEDS.c.name.label("feed_name"))
        .join(FEEDS, FEEDS.c.id == e.feed_id, isouter=True)
        .where(e.proposal_id.in_(list(ids)))
        .order_by(e.proposal_id, e.published_at.desc(), e.id.desc())
    )
    for row in conn.execute(query):
        found[row.proposal_id].append(evidence_data(dict(row._mapping)))
    return found


def proposal_view(row: Any, evidence: list[dict[str, Any]], title: str | None) -> dict[str, Any]:
    r = row._mapping
    current = window_of(r["current_text"], r["current_start"], r["current_end"], r["timezone"])
    proposed = window_of(r["proposed_text"], r["proposed_start"], r["proposed_end"], r["timezone"])
    return {
        "id": r["id"],
        "milestone": r["milestone_id"],
        "milestone_title": title,
        "field": r["field"],
        "current_window": {"text": r["current_text"], "start": utc_text(current.start), "end": utc_text(current.end)},
        "proposed_window": {
            "text": r["proposed_text"],
            "start": utc_text(proposed.start),
            "end": utc_text(proposed.end),
        },
        "slip_days": r["slip_days"],
        "direction": r["direction"],
        "status": r["status"],
        "reason": r["reason"],
        "created_at": utc_text(r["created_at"]),
        "decided_at": utc_text(r["decided_at"]) if r["decided_at"] else None,
        "summary": f"{change_words(r['field'], current, proposed)} ({slip_words(r['slip_days'])})",
        "evidence": evidence,
    }


def list_proposals(conn: Connection, *, status: str | None = "open", limit: int = MAX_LISTED) -> list[dict[str, Any]]:
    """Proposals, newest first (`status` None: all), each with its evidence (newest item first)."""
    p = PROPOSALS.c
    query = (
        select(PROPOSALS, MILESTONES.c.title)
        .join(MILESTONES, MILESTONES.c.id == p.milestone_id, isouter=True)
        .order_by(p.created_at.desc(), p.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(p.status == status)
    rows = conn.execute(query).all()
    evidence = _evidence(conn, [row.id for row in rows])
    return [proposal_view(row, evidence[row.id], row.title) for row in rows]


def get_proposal(conn: Connection, proposal_id: int) -> dict[str, Any] | None:
    query = (
        select(PROPOSALS, MILESTONES.c.title)
        .join(MILESTONES, MILESTONES.c.id == PROPOSALS.c.milestone_id, isouter=True)
        .where(PROPOSALS.c.id == proposal_id)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    return proposal_view(row, _evidence(conn, [proposal_id])[proposal_id], row.title)


EVIDENCE_SHOWN = 3


def page_proposals(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Proposals as the page shows them: the milestone, what would change, and the newest pieces of
    evidence (the feed's name linked to the article when its link is http(s))."""
    return [
        {
            "id": p["id"],
            "title": p.get("milestone_title") or p["milestone"],
            "summary": p["summary"],
            "evidence": [
                {
                    "source": e.get("feed_name") or e["feed_id"],
                    "sentence": e["sentence"],
                    "href": web_link(e.get("link")),
                }
                for e in p["evidence"][:EVIDENCE_SHOWN]
            ],
        }
        for p in found
    ]
