"""What the outbox needs of a database engine, owned here because the outbox relies on it.

- JSON stored compact, exactly as `alerts.formats.encode` writes it: a notice's stored payload is
  the body of its `standard` webhook, sent without being decoded and encoded again.
- On SQLite, SQLAlchemy (not the sqlite3 module) decides where a transaction begins, and a
  connection asked for `execution_options(sqlite_immediate=True)` begins with BEGIN IMMEDIATE (the
  claims read then write what they read); `sqlite_immediate="nowait"` takes the write lock only if
  it is free. WAL, foreign keys and statement journals in memory.

An application makes its engines with `make_engine` (timeline does, in `timeline.db`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from alerts.formats import encode

# How long a SQLite statement waits for another connection's lock before it fails (milliseconds).
BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`. SQLite gets WAL, a busy timeout, foreign keys and the BEGIN hook; its
    folder is created. PostgreSQL gets `pool_pre_ping`."""
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


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin: the module's own
    # implicit BEGIN comes only before a write, which leaves a read-then-write unprotected.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Statement journals (a multi-row write inside a transaction keeps one) in memory, not in a
    # temp file per statement.
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN, or BEGIN IMMEDIATE for `conn.execution_options(sqlite_immediate=True)`. With
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
