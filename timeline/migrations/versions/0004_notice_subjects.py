"""notice subjects: every subject of a notice, for look-ups by subject

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:10:00

Until now only a notice's first subject was indexed (`notices.subject`), so "the notices about this
milestone" missed feed items that matched it as their second or third milestone. The rows for the
notices already stored are filled in from `notices.subjects`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_subjects",
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["notice_id"], ["notices.id"]),
        sa.PrimaryKeyConstraint("subject", "notice_id"),
    )
    if op.get_bind().dialect.name == "postgresql":
        elements = "json_array_elements_text(notices.subjects) AS s(value)"
    else:
        elements = "json_each(notices.subjects) AS s"
    op.execute(
        "INSERT INTO notice_subjects (subject, notice_id) "
        f"SELECT DISTINCT s.value, notices.id FROM notices, {elements} WHERE s.value IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("notice_subjects")
