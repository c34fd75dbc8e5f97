"""Tables of feed watching: feeds (config and polling state), their entries, and the evidence that
links a matched entry to milestones.

A feed row holds its config (written by `sync_feeds`) and its polling state (written after each
poll). `next_poll_at` is also the lease of a claimed poll: claiming moves it forward by the poll's
time-out plus a margin and sets a fresh `claim_token`, so a worker that dies mid-poll only delays the
feed, and a late worker whose lease was taken over cannot overwrite the newer state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from alerts.sqltypes import UTCDateTime


class Feed(SQLModel, table=True):
    """One watched feed. `status`: new (never polled), ok, not_modified or error.

    `failing_since` is the first failure after the last success; `failing_notified_at` is set once
    `feed.failing` was published for that episode (so `feed.recovered` follows only then).
    `backlog_done` turns true at the first successful parse: entries found before it are the backlog.
    """

    __tablename__ = "feeds"
    __table_args__ = (Index("ix_feeds_due", "active", "next_poll_at"),)

    id: str = Field(sa_column=Column(String(200), primary_key=True))
    url: str = Field(sa_column=Column(Text, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    interval_seconds: float = Field(sa_column=Column(Float, nullable=False))
    timeout_seconds: float = Field(sa_column=Column(Float, nullable=False))
    max_bytes: int = Field(sa_column=Column(Integer, nullable=False))
    rule: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    milestones: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    notify_backlog: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    notify_updates: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    lang: str | None = Field(default=None, sa_column=Column(String(35)))

    fetch_url: str | None = Field(default=None, sa_column=Column(Text))
    next_poll_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    claim_token: str | None = Field(default=None, sa_column=Column(String(64)))
    status: str = Field(default="new", sa_column=Column(String(16), nullable=False))
    etag: str | None = Field(default=None, sa_column=Column(Text))
    last_modified: str | None = Field(default=None, sa_column=Column(Text))
    body_hash: str | None = Field(default=None, sa_column=Column(String(64)))
    consecutive_failures: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_status_code: int | None = Field(default=None, sa_column=Column(Integer))
    last_polled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_success_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    failing_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    failing_notified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    backlog_done: bool = Field(default=False, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class FeedEntry(SQLModel, table=True):
    """One item of a feed, unique by (feed, identity): guid, else link, else a hash of its content.
    `scheme` is the version of those rules it was stored under (`timeline.feeds.items.SCHEME`)."""

    __tablename__ = "feed_entries"
    __table_args__ = (UniqueConstraint("feed_id", "identity_hash", name="uq_feed_entries_identity"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: str = Field(sa_column=Column(String(200), ForeignKey("feeds.id"), nullable=False))
    identity_hash: str = Field(sa_column=Column(String(40), nullable=False))
    identity: str = Field(sa_column=Column(Text, nullable=False))
    title: str | None = Field(default=None, sa_column=Column(Text))
    link: str | None = Field(default=None, sa_column=Column(Text))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    summary: str | None = Field(default=None, sa_column=Column(Text))
    content_hash: str = Field(sa_column=Column(String(40), nullable=False))
    first_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    last_seen_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    scheme: int = Field(default=1, sa_column=Column(SmallInteger, nullable=False, server_default="1"))


class FeedEvidence(SQLModel, table=True):
    """A matched entry as evidence on a milestone (no foreign key on the milestone: a feed may name
    one that does not exist yet, or was archived)."""

    __tablename__ = "feed_evidence"
    __table_args__ = (UniqueConstraint("entry_id", "milestone_id", name="uq_feed_evidence_entry_milestone"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("feed_entries.id"), nullable=False))
    milestone_id: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    feed_id: str = Field(sa_column=Column(String(200), nullable=False))
    rule: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    matched_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
