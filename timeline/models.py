"""Tables of the timeline: milestones and their change history.

Windows are stored twice on purpose: as the text the user wrote (the source of truth, re-parsed in
its time zone) and as UTC instants (`opens_at`, `due_at`, `next_check_at`) that the due scan indexes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from alerts.sqltypes import UTCDateTime


class Milestone(SQLModel, table=True):
    __tablename__ = "milestones"
    __table_args__ = (Index("ix_milestones_next_check", "next_check_at"),)

    id: str = Field(sa_column=Column(String(200), primary_key=True))
    title: str = Field(sa_column=Column(Text, nullable=False))
    subject: str | None = Field(default=None, sa_column=Column(String(200), index=True))
    when_text: str | None = Field(default=None, sa_column=Column(String(64)))
    starts_text: str | None = Field(default=None, sa_column=Column(String(64)))
    ends_text: str | None = Field(default=None, sa_column=Column(String(64)))
    timezone: str = Field(default="UTC", sa_column=Column(String(64), nullable=False))
    opens_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    status: str = Field(default="planned", sa_column=Column(String(20), nullable=False, index=True))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source: str | None = Field(default=None, sa_column=Column(Text))
    notes: str | None = Field(default=None, sa_column=Column(Text))
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    remind: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    grace_seconds: int = Field(sa_column=Column(Integer, nullable=False))
    repeat_seconds: int | None = Field(default=None, sa_column=Column(Integer))
    origin: str = Field(default="config", sa_column=Column(String(16), nullable=False))
    origin_path: str | None = Field(default=None, sa_column=Column(Text))
    revision: int = Field(default=1, sa_column=Column(Integer, nullable=False))
    next_check_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    archived_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, index=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class MilestoneChange(SQLModel, table=True):
    """One recorded change of a milestone: added, removed, rescheduled, status_changed or edited."""

    __tablename__ = "milestone_changes"

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    slip_days: int | None = Field(default=None, sa_column=Column(Integer))
