"""Tables of the alerts engine. `notices` is the inbox: one row per notice, unique by key, ever."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String
from sqlmodel import Field, SQLModel

from alerts.sqltypes import UTCDateTime


class Notice(SQLModel, table=True):
    """Something worth telling subscribers. Created once, ever: `key` is unique in the database.

    `subjects` are opaque ids of what the notice concerns (a milestone id, say) for subscription
    filters; `subject` is the first of them, indexed for look-ups. `fanned_out_at` is set when the
    notice has been turned into one delivery per matching subscription.
    """

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_pending_fanout", "fanned_out_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(512), nullable=False, unique=True))
    type: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    subject: str | None = Field(default=None, sa_column=Column(String(200), index=True))
    subjects: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    fanned_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
