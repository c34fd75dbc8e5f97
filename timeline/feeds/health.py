"""Feed health for people and scripts, and the `feed.failing` / `feed.recovered` notices.

A failing episode starts at the first failure after a success (`failing_since`). Its notices are
keyed by that instant, so each episode says "failing" once and "recovered" once, whichever worker
notices it and however often it is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from alerts.notices import NewNotice
from timeline.feeds.evidence import ENTRIES
from timeline.feeds.store import FEEDS, FeedRow
from timeline.wording import failing_message, recovered_message


@dataclass(frozen=True)
class FeedHealth:
    id: str
    name: str
    url: str
    active: bool
    status: str
    consecutive_failures: int
    last_success_at: datetime | None
    last_polled_at: datetime | None
    next_poll_at: datetime | None
    last_error: str | None
    failing_since: datetime | None
    entries: int

    def as_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "active": self.active,
            "status": self.status,
            "consecutive_failures": self.consecutive_failures,
            "last_success_at": iso(self.last_success_at),
            "last_polled_at": iso(self.last_polled_at),
            "next_poll_at": iso(self.next_poll_at),
            "last_error": self.last_error,
            "failing_since": iso(self.failing_since),
            "entries": self.entries,
        }


def feed_health(conn: Connection, *, include_inactive: bool = False) -> list[FeedHealth]:
    """Every feed's polling health, by id. `status`: new, ok, not_modified or error."""
    counts = select(ENTRIES.c.feed_id, func.count().label("n")).group_by(ENTRIES.c.feed_id).subquery("entry_counts")
    query = (
        select(FEEDS, func.coalesce(counts.c.n, 0).label("entry_count"))
        .outerjoin(counts, counts.c.feed_id == FEEDS.c.id)
        .order_by(FEEDS.c.id)
    )
    if not include_inactive:
        query = query.where(FEEDS.c.active.is_(True))
    found = []
    for row in conn.execute(query):
        m = row._mapping
        found.append(
            FeedHealth(
                id=m["id"],
                name=m["name"],
                url=m["url"],
                active=m["active"],
                status=m["status"],
                consecutive_failures=m["consecutive_failures"],
                last_success_at=m["last_success_at"],
                last_polled_at=m["last_polled_at"],
                next_poll_at=m["next_poll_at"] if m["active"] else None,
                last_error=m["last_error"],
                failing_since=m["failing_since"],
                entries=m["entry_count"],
            )
        )
    return found


def _data(feed: FeedRow, title: str, since: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "link": feed.url,
        "feed": {"id": feed.id, "name": feed.name, "url": feed.url},
        "failing_since": since.isoformat(),
        **extra,
    }


def failing_notice(feed: FeedRow, since: datetime, failures: int, error: str | None, now: datetime) -> NewNotice:
    return NewNotice(
        type="feed.failing",
        key=f"feed.failing:{feed.id}:{since.isoformat()}",
        occurred_at=now,
        data=_data(
            feed,
            f"Feed {feed.name} is failing: {error}",
            since,
            error=error,
            consecutive_failures=failures,
            message=failing_message(feed.name, feed.url, since, failures, error).as_dict(),
        ),
        subjects=feed.milestones,
        tags=feed.tags,
    )


def recovered_notice(feed: FeedRow, since: datetime, now: datetime) -> NewNotice:
    return NewNotice(
        type="feed.recovered",
        key=f"feed.recovered:{feed.id}:{since.isoformat()}",
        occurred_at=now,
        data=_data(
            feed,
            f"Feed {feed.name} works again",
            since,
            failed_for_seconds=int((now - since).total_seconds()),
            message=recovered_message(feed.name, feed.url, since, now).as_dict(),
        ),
        subjects=feed.milestones,
        tags=feed.tags,
    )
