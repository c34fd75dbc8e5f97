"""Many rows in one statement: a batch sent as a table the database unpacks.

An executemany costs a statement per row on the server and, in SQLAlchemy, a round of parameter
processing per row in Python; a multi-row VALUES list is re-parsed by psycopg in Python when it has
more than 50 parameters. `rows_source` sends a batch as one parameter per column on PostgreSQL
(`unnest` of arrays) and as one JSON array on SQLite (`json_each`), so inserts and updates of
thousands of rows are one statement each.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, String, Table, bindparam, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeEngine

Columns = tuple[tuple[str, TypeEngine[Any]], ...]
"""A batch's columns: name and type of each, in the order of the rows' values."""


@functools.lru_cache(maxsize=256)
def rows_source(dialect: str, columns: Columns) -> Any:
    """A batch of rows of `columns` as a table to select or update from, with one column per name.
    The rows are bound at execution: pass `rows_params` of them. Built once per dialect and columns
    (building and keying a statement costs more than executing it, batch after batch)."""
    names = [name for name, _ in columns]
    if dialect == "postgresql":
        arrays = [bindparam(f"rows_{name}", type_=postgresql.ARRAY(type_)) for name, type_ in columns]
        return func.unnest(*arrays).table_valued(*names).render_derived()
    items = func.json_each(bindparam("rows", type_=String())).table_valued("value")
    return select(*(func.json_extract(items.c.value, f"$[{i}]").label(name) for i, name in enumerate(names))).subquery()


def rows_params(conn: Connection, columns: Columns, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """The parameters that bind `rows` (sequences in the order of `columns`) to `rows_source`.
    Values go through each type's own bind processing, so they are stored exactly as a single-row
    statement would store them."""
    if conn.dialect.name == "postgresql":
        return {f"rows_{name}": [row[i] for row in rows] for i, (name, _) in enumerate(columns)}
    processors = _processors(conn.dialect, columns)
    plain = [
        [value if process is None else process(value) for value, process in zip(row, processors, strict=True)]
        for row in rows
    ]
    return {"rows": json.dumps(plain)}


@functools.lru_cache(maxsize=256)
def _processors(dialect: Dialect, columns: Columns) -> list[Any]:
    return [type_.bind_processor(dialect) for _, type_ in columns]


def insert_rows(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    shared: Mapping[str, Any] | None = None,
    unique: Sequence[str] = (),
) -> int:
    """Insert `rows` (tuples of the values of `columns`), each also with the `shared` values (bound
    once for the batch), skipping those that collide on `unique`; the count inserted."""
    if not rows:
        return 0
    statement, params = _insert(conn, table, columns, rows, shared or {}, unique, ())
    # An INSERT's row count is kept only when asked for (psycopg's cursor is closed by then).
    return int(conn.execute(statement, params, execution_options={"preserve_rowcount": True}).rowcount)


def insert_returning(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
    *,
    shared: Mapping[str, Any] | None = None,
    unique: Sequence[str] = (),
) -> Sequence[Sequence[Any]]:
    """`insert_rows`, returning the `returning` columns of the rows inserted, in no particular order
    (rows to read by position: see `alerts.outbox._Sending` for why not by name)."""
    if not rows:
        return []
    statement, params = _insert(conn, table, columns, rows, shared or {}, unique, tuple(returning))
    return conn.execute(statement, params).all()


def _insert(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    shared: Mapping[str, Any],
    unique: Sequence[str],
    returning: tuple[str, ...],
) -> tuple[Any, dict[str, Any]]:
    """The statement that inserts `rows` and the values it is executed with."""
    typed = tuple((c, table.c[c].type) for c in columns)
    statement = _insert_from(conn.dialect.name, table, typed, tuple(shared), tuple(unique), returning)
    params = rows_params(conn, typed, rows)
    params.update({f"shared_{name}": value for name, value in shared.items()})
    return statement, params


@functools.lru_cache(maxsize=256)
def _insert_from(
    dialect: str,
    table: Table,
    columns: Columns,
    shared: tuple[str, ...],
    unique: tuple[str, ...],
    returning: tuple[str, ...],
) -> Any:
    """INSERT into `table` from `rows_source` (one statement, whatever the number of rows) with the
    `shared` columns bound once, doing nothing on a collision on `unique`."""
    source = rows_source(dialect, columns)
    values = [source.c[name] for name, _ in columns]
    values += [bindparam(f"shared_{name}", type_=table.c[name].type) for name in shared]
    # SQLite reads `ON CONFLICT` after a bare `SELECT ... FROM` as a join's constraint: a WHERE ends it.
    select_from = select(*values).where(true())
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).from_select([*(name for name, _ in columns), *shared], select_from)
    if unique:
        statement = statement.on_conflict_do_nothing(index_elements=list(unique))
    return statement.returning(*(table.c[c] for c in returning)) if returning else statement
