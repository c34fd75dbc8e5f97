"""channels: silences, and a subscription's quiet hours and digest schedule

Revision ID: 0008_channels
Revises: 0006_proposals
Create Date: 2026-12-03 12:00:00

Silences mute the deliveries of matching notices for a while (the notices are still created).
`subscriptions.quiet` and `subscriptions.digest` hold the text of its quiet hours and digest
schedule, as written in the config file or the API (an email subscription's addresses are its
`mailto:` URL).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from alerts.sqltypes import UTCDateTime

revision: str = "0008_channels"
down_revision: str | None = "0006_proposals"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "silences",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(200)),
        sa.Column("tag", sa.String(200)),
        sa.Column("types", sa.String(200), nullable=False),
        sa.Column("starts_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expired_at", UTCDateTime(timezone=True)),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("quiet", sa.String(100)))
        batch.add_column(sa.Column("digest", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("digest")
        batch.drop_column("quiet")
    op.drop_index("ix_silences_ends_at", table_name="silences")
    op.drop_table("silences")
