"""feed entries: the scheme of identity and content hash each entry was stored under

Revision ID: 0005_feeds
Revises: 0004
Create Date: 2026-12-03 10:00:00

The rules that make an entry's identity and content hash changed (feedparser-rs beside feedparser,
titles kept as plain text, items that repeat a guid with another link told apart). Entries stored
before are marked scheme 1; a poll brings each up to date quietly the first time it sees it
(`timeline.feeds.plan`), so that an upgrade announces no stored item as new or edited.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_feeds"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feed_entries") as batch:
        batch.add_column(sa.Column("scheme", sa.SmallInteger(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("feed_entries") as batch:
        batch.drop_column("scheme")
