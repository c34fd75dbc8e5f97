"""proposals: new windows read in the news, their evidence; a feed's language

Revision ID: 0006_proposals
Revises: 0005_feeds
Create Date: 2026-12-03 08:00:00

A matched feed item that states a date outside a milestone's window becomes a proposal (one per
milestone, field, current and proposed value) with the items that state it as evidence. Feeds get
the `lang` of feeds.yaml, the language their items' dates are read in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alerts.sqltypes

revision: str = "0006_proposals"
down_revision: str | None = "0005_feeds"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_WHEN = alerts.sqltypes.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=16), nullable=False),
        sa.Column("current_text", sa.String(length=64), nullable=False),
        sa.Column("proposed_text", sa.String(length=64), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("current_start", _WHEN, nullable=False),
        sa.Column("current_end", _WHEN, nullable=False),
        sa.Column("proposed_start", _WHEN, nullable=False),
        sa.Column("proposed_end", _WHEN, nullable=False),
        sa.Column("slip_days", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("config_path", sa.Text(), nullable=True),
        sa.Column("config_fingerprint", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("milestone_id", "field", "current_text", "proposed_text", name="uq_proposals_change"),
    )
    with op.batch_alter_table("proposals") as batch:
        batch.create_index("ix_proposals_milestone_id", ["milestone_id"], unique=False)
        batch.create_index("ix_proposals_status", ["status", "created_at"], unique=False)
    op.create_table(
        "proposal_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.String(length=200), nullable=False),
        sa.Column("phrase", sa.Text(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("stated_start", _WHEN, nullable=False),
        sa.Column("stated_end", _WHEN, nullable=False),
        sa.Column("about", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("published_at", _WHEN, nullable=True),
        sa.Column("found_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(["entry_id"], ["feed_entries.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("proposal_id", "entry_id", name="uq_proposal_evidence_entry"),
    )
    with op.batch_alter_table("proposal_evidence") as batch:
        batch.create_index("ix_proposal_evidence_proposal_id", ["proposal_id"], unique=False)
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("lang", sa.String(length=35), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("lang")
    op.drop_table("proposal_evidence")
    op.drop_table("proposals")
