"""Reading the evidence: feed items linked to milestones by a match, newest first, a page at a time.

Every match is kept (a 10,000-entry feed can link 10,000 items to one milestone); readers ask for a
page per milestone (`limit`, `offset`) and for the totals (`evidence_counts`) to say how many more
there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select

from timeline.feeds.models import FeedEntry, FeedEvidence
from timeline.feeds.store import FEEDS

ENTRIES: Table = FeedEntry.__table__  # type: ignore[attr-defined]
EVIDENCE: Table = FeedEvidence.__table__  # type: ignore[attr-defined]
_CHUNK = 500


@dataclass(frozen=True)
class Evidence:
    """A feed item linked to a milestone by a match."""

    milestone_id: str
    feed_id: str
    feed_name: str
    title: str | None
    link: str | None
    published: datetime | None
    summary: str | None
    rule: dict[str, Any]
    matched_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "milestone_id": self.milestone_id,
            "feed_id": self.feed_id,
            "feed_name": self.feed_name,
            "title": self.title,
            "link": self.link,
            "published": self.published.isoformat() if self.published else None,
            "summary": self.summary,
            "rule": self.rule,
            "matched_at": self.matched_at.isoformat(),
        }


def evidence_for(
    conn: Connection, milestone_ids: Sequence[str], *, limit: int | None = None, offset: int = 0
) -> dict[str, list[Evidence]]:
    """The evidence on each of `milestone_ids`, newest first (every id is a key, maybe with []).
    With `limit`, at most that many per milestone, after skipping `offset` of each."""
    found: dict[str, list[Evidence]] = {mid: [] for mid in milestone_ids}
    ids = list(found)
    newest_first = (EVIDENCE.c.matched_at.desc(), ENTRIES.c.published_at.desc(), EVIDENCE.c.id.desc())
    rank = func.row_number().over(partition_by=EVIDENCE.c.milestone_id, order_by=newest_first).label("rank")
    columns = (
        EVIDENCE.c.milestone_id,
        EVIDENCE.c.feed_id,
        FEEDS.c.name,
        ENTRIES.c.title,
        ENTRIES.c.link,
        ENTRIES.c.published_at,
        ENTRIES.c.summary,
        EVIDENCE.c.rule,
        EVIDENCE.c.matched_at,
    )
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(*columns, rank)
            .join(ENTRIES, ENTRIES.c.id == EVIDENCE.c.entry_id)
            .join(FEEDS, FEEDS.c.id == EVIDENCE.c.feed_id)
            .where(EVIDENCE.c.milestone_id.in_(ids[start : start + _CHUNK]))
        )
        if limit is None and offset <= 0:
            rows = conn.execute(query.order_by(*newest_first))
        else:
            ranked = query.subquery("ranked")
            page = select(*(ranked.c[c.name] for c in (*columns, rank))).where(ranked.c.rank > max(offset, 0))
            if limit is not None:
                page = page.where(ranked.c.rank <= max(offset, 0) + max(limit, 0))
            rows = conn.execute(page.order_by(ranked.c.milestone_id, ranked.c.rank))
        for row in rows:
            found[row[0]].append(Evidence(*row[:9]))
    return found


def evidence_counts(conn: Connection, milestone_ids: Sequence[str]) -> dict[str, int]:
    """How many evidence items each of `milestone_ids` has (every id is a key, maybe with 0)."""
    counts = dict.fromkeys(milestone_ids, 0)
    ids = list(counts)
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(EVIDENCE.c.milestone_id, func.count())
            .where(EVIDENCE.c.milestone_id.in_(ids[start : start + _CHUNK]))
            .group_by(EVIDENCE.c.milestone_id)
        )
        counts.update({mid: int(n) for mid, n in conn.execute(query)})
    return counts
