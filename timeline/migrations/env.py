"""Alembic environment: runs on the engine handed over by `timeline.db.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import timeline.db  # noqa: F401  (registers every table in SQLModel.metadata)

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
