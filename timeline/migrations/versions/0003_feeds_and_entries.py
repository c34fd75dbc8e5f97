"""feeds and entries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 04:03:20.369732
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alerts.sqltypes

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("interval_seconds", sa.Float(), nullable=False),
        sa.Column("timeout_seconds", sa.Float(), nullable=False),
        sa.Column("max_bytes", sa.Integer(), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("notify_backlog", sa.Boolean(), nullable=False),
        sa.Column("notify_updates", sa.Boolean(), nullable=False),
        sa.Column("fetch_url", sa.Text(), nullable=True),
        sa.Column("next_poll_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_polled_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failing_since", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failing_notified_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("backlog_done", sa.Boolean(), nullable=False),
        sa.Column("created_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.create_index("ix_feeds_due", ["active", "next_poll_at"], unique=False)

    op.create_table(
        "feed_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.String(length=200), nullable=False),
        sa.Column("identity_hash", sa.String(length=40), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("published_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=40), nullable=False),
        sa.Column("first_seen_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["feeds.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("feed_id", "identity_hash", name="uq_feed_entries_identity"),
    )
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_entries_first_seen_at"), ["first_seen_at"], unique=False)

    op.create_table(
        "feed_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.String(length=200), nullable=False),
        sa.Column("feed_id", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("matched_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["feed_entries.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entry_id", "milestone_id", name="uq_feed_evidence_entry_milestone"),
    )
    with op.batch_alter_table("feed_evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_evidence_milestone_id"), ["milestone_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_evidence_milestone_id"))

    op.drop_table("feed_evidence")
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_entries_first_seen_at"))

    op.drop_table("feed_entries")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_index("ix_feeds_due")

    op.drop_table("feeds")
