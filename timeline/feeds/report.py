"""What a poll run reports: one `FeedPoll` per feed, gathered in a `PollReport`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class FeedPoll:
    """The result of polling one feed. `status`: ok, not_modified, error, or lost (another worker
    took the feed over after our lease ran out; nothing of ours was written)."""

    feed_id: str
    url: str
    status: str
    http_status: int | None = None
    error: str | None = None
    new: int = 0
    updated: int = 0
    matched: int = 0
    notices: tuple[str, ...] = ()
    skipped: int = 0
    """Items of the document left out or left unmatched (each reason is logged)."""
    fetch_seconds: float = 0.0
    parse_seconds: float = 0.0
    next_poll_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "feed_id": self.feed_id,
            "url": self.url,
            "status": self.status,
            "http_status": self.http_status,
            "error": self.error,
            "new": self.new,
            "updated": self.updated,
            "matched": self.matched,
            "notices": list(self.notices),
            "skipped": self.skipped,
            "fetch_seconds": round(self.fetch_seconds, 3),
            "parse_seconds": round(self.parse_seconds, 3),
            "next_poll_at": self.next_poll_at.isoformat() if self.next_poll_at else None,
        }


@dataclass
class PollReport:
    feeds: list[FeedPoll] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def notices(self) -> list[str]:
        return [key for poll in self.feeds for key in poll.notices]

    @property
    def errors(self) -> list[FeedPoll]:
        return [poll for poll in self.feeds if poll.status == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 3), "feeds": [p.as_dict() for p in self.feeds]}


Progress = Callable[[FeedPoll], None]
