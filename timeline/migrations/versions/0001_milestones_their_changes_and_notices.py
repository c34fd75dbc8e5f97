"""milestones, their changes and notices

Revision ID: 0001
Revises:
Create Date: 2026-11-29 03:44:28.418555
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alerts.sqltypes

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "milestone_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("slip_days", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("milestone_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestone_changes_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestone_changes_milestone_id"), ["milestone_id"], unique=False)

    op.create_table(
        "milestones",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("when_text", sa.String(length=64), nullable=True),
        sa.Column("starts_text", sa.String(length=64), nullable=True),
        sa.Column("ends_text", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("opens_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("remind", sa.JSON(), nullable=False),
        sa.Column("grace_seconds", sa.Integer(), nullable=False),
        sa.Column("repeat_seconds", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("origin_path", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("next_check_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("archived_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_archived_at"), ["archived_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_due_at"), ["due_at"], unique=False)
        batch_op.create_index("ix_milestones_next_check", ["next_check_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_opens_at"), ["opens_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_subject"), ["subject"], unique=False)

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("occurred_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("fanned_out_at", alerts.sqltypes.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notices_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index("ix_notices_pending_fanout", ["fanned_out_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_notices_type"), ["type"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_type"))
        batch_op.drop_index(batch_op.f("ix_notices_subject"))
        batch_op.drop_index("ix_notices_pending_fanout")
        batch_op.drop_index(batch_op.f("ix_notices_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_notices_created_at"))

    op.drop_table("notices")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_subject"))
        batch_op.drop_index(batch_op.f("ix_milestones_status"))
        batch_op.drop_index(batch_op.f("ix_milestones_opens_at"))
        batch_op.drop_index("ix_milestones_next_check")
        batch_op.drop_index(batch_op.f("ix_milestones_due_at"))
        batch_op.drop_index(batch_op.f("ix_milestones_archived_at"))

    op.drop_table("milestones")
    with op.batch_alter_table("milestone_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_changes_milestone_id"))
        batch_op.drop_index(batch_op.f("ix_milestone_changes_at"))

    op.drop_table("milestone_changes")
