"""Tables of proposals: a new window for one of a milestone's dates, read in the news, and the feed
items that state it.

A proposal is unique by (milestone, field, current value, proposed value): several items stating the
same window are one proposal with several pieces of evidence. `status` is open, accepted or rejected;
`config_fingerprint` is the SHA-256 of the milestones file as it was when the proposal was made (a
config-owned milestone), so that accepting it never overwrites an edit made since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from alerts.sqltypes import UTCDateTime


class Proposal(SQLModel, table=True):
    __tablename__ = "proposals"
    __table_args__ = (
        UniqueConstraint("milestone_id", "field", "current_text", "proposed_text", name="uq_proposals_change"),
        Index("ix_proposals_status", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    milestone_id: str = Field(sa_column=Column(String(200), nullable=False, index=True))
    field: str = Field(sa_column=Column(String(16), nullable=False))
    current_text: str = Field(sa_column=Column(String(64), nullable=False))
    proposed_text: str = Field(sa_column=Column(String(64), nullable=False))
    timezone: str = Field(sa_column=Column(String(64), nullable=False))
    current_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    current_end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    proposed_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    proposed_end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    slip_days: int = Field(sa_column=Column(Integer, nullable=False))
    direction: str = Field(sa_column=Column(String(8), nullable=False))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False))
    origin: str = Field(sa_column=Column(String(16), nullable=False))
    config_path: str | None = Field(default=None, sa_column=Column(Text))
    config_fingerprint: str | None = Field(default=None, sa_column=Column(String(64)))
    reason: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ProposalEvidence(SQLModel, table=True):
    """A feed item that states a proposal's window: the phrase, its sentence, the item."""

    __tablename__ = "proposal_evidence"
    __table_args__ = (UniqueConstraint("proposal_id", "entry_id", name="uq_proposal_evidence_entry"),)

    id: int | None = Field(default=None, primary_key=True)
    proposal_id: int = Field(sa_column=Column(Integer, ForeignKey("proposals.id"), nullable=False, index=True))
    entry_id: int = Field(sa_column=Column(Integer, ForeignKey("feed_entries.id"), nullable=False))
    feed_id: str = Field(sa_column=Column(String(200), nullable=False))
    phrase: str = Field(sa_column=Column(Text, nullable=False))
    sentence: str = Field(sa_column=Column(Text, nullable=False))
    stated_start: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    stated_end: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    about: str = Field(sa_column=Column(String(16), nullable=False))
    language: str | None = Field(default=None, sa_column=Column(String(16)))
    title: str | None = Field(default=None, sa_column=Column(Text))
    link: str | None = Field(default=None, sa_column=Column(Text))
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    found_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
