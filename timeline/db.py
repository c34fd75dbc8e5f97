"""Engines and schema migrations. SQLite (WAL) by default, PostgreSQL through DATABASE_URL.

The default SQLite file lives in the config folder (`<config_dir>/var/timeline.db`, see
`timeline.settings`): a command finds the same database wherever it is run from.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine

from alerts.engines import make_engine

__all__ = ["advisory_lock", "existing_engine", "make_engine", "upgrade", "write_transaction"]

MIGRATIONS = Path(__file__).parent / "migrations"
# Advisory lock keys (PostgreSQL): any fixed numbers, distinct from each other.
MIGRATION_LOCK = 7_140_001
CONFIG_LOCK = 7_140_002


def existing_engine(url: str) -> Engine | None:
    """An engine that only reads the database at `url`, and creates nothing: None when `url` is a
    SQLite file that does not exist (a SQLite file is opened read-only)."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:" or not Path(path).is_file():
        return None
    return create_engine(f"sqlite:///file:{Path(path).absolute()}?mode=ro&uri=true")


def write_transaction(engine: Engine) -> Any:
    """A transaction that will write what it reads: IMMEDIATE on SQLite, plain on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True).begin()
    return engine.begin()


def advisory_lock(conn: Connection, key: int) -> None:
    """Take the PostgreSQL advisory lock `key` until this transaction ends: a section that reads then
    writes shared state (the config sync) runs in one worker at a time, and the next one reads what
    the previous one committed. SQLite needs nothing: BEGIN IMMEDIATE already serialises writers."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent). On PostgreSQL, workers starting at
    the same time take turns (an advisory lock): the first migrates, the others find it done."""
    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), "head")


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name != "postgresql":
        yield  # SQLite: one worker per file (see timeline.runner), and its writes are serialised
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
        conn.commit()
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
            conn.commit()
