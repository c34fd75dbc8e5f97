"""Alembic environment: runs on the engine handed over by `timeline.db.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import timeline.tables  # noqa: F401  (registers every table in SQLModel.metadata)

with context.config.attributes["engine"].connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
