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
from sqlalchemy import Connection, Engine, create_engine, event

import alerts.models
import timeline.feeds.models
import timeline.models
import timeline.proposals.models
from alerts.formats import encode

MIGRATIONS = Path(__file__).parent / "migrations"
# Advisory lock keys (PostgreSQL): any fixed numbers, distinct from each other.
MIGRATION_LOCK = 7_140_001
CONFIG_LOCK = 7_140_002
# Every table lives in SQLModel's one metadata; importing the model modules registers them.
MODEL_MODULES = (alerts.models, timeline.models, timeline.feeds.models, timeline.proposals.models)
# How long a SQLite statement waits for another connection's lock before it fails (milliseconds).
BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`. SQLite gets WAL, a busy timeout and foreign keys; its folder is created.
    JSON is stored compact, as webhook bodies are sent (a notice's stored payload is its body)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            json_serializer=encode,
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=encode, **kwargs)


def existing_engine(url: str) -> Engine | None:
    """An engine that only reads the database at `url`, and creates nothing: None when `url` is a
    SQLite file that does not exist (a SQLite file is opened read-only)."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path == ":memory:" or not Path(path).is_file():
        return None
    return create_engine(f"sqlite:///file:{Path(path).absolute()}?mode=ro&uri=true")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin: the module's own
    # implicit BEGIN comes only before a write, which leaves a read-then-write unprotected.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Statement journals (a multi-row write inside a transaction keeps one) in memory, not in a temp
    # file per statement: ~25 page writes saved per delivery batch.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for `conn.execution_options(sqlite_immediate=True)`: take the write
    lock up front when a transaction reads then writes what it read (config sync, claims). With
    `sqlite_immediate="nowait"` the lock is taken only if it is free: when another connection holds
    it, BEGIN fails at once with SQLITE_BUSY ("database is locked") instead of waiting for it."""
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    if immediate != "nowait":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        return
    conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def write_transaction(engine: Engine) -> Any:
    """A transaction that will write what it reads: IMMEDIATE on SQLite, plain on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True).begin()
    return engine.begin()


def serialise(conn: Connection, key: int) -> None:
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
