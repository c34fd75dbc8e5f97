"""Many rows in one statement: a batch sent as a table the database unpacks.

An executemany costs a statement per row on the server and, in SQLAlchemy, a round of parameter
processing per row in Python; a multi-row VALUES list is re-parsed by psycopg in Python when it has
more than 50 parameters. `rows_source` sends a batch as one parameter per column on PostgreSQL
(`unnest` of arrays) and as one JSON array on SQLite (`json_each`), so inserts and updates of
thousands of rows are one statement each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, FromClause, Row, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeEngine


def rows_source(conn: Connection, columns: Sequence[tuple[str, TypeEngine[Any]]], rows: Sequence[Sequence[Any]]) -> Any:
    """`rows` (tuples in the order of `columns`: name and type) as a table to select or update
    from, with one column per name. Values go through each type's own bind processing, so they are
    stored exactly as a single-row statement would store them."""
    names = [name for name, _ in columns]
    if conn.dialect.name == "postgresql":
        arrays = [
            bindparam(f"rows_{name}", [row[i] for row in rows], type_=postgresql.ARRAY(type_))
            for i, (name, type_) in enumerate(columns)
        ]
        return func.unnest(*arrays).table_valued(*names).render_derived()
    processors = [type_.bind_processor(conn.dialect) for _, type_ in columns]
    plain = [
        [value if process is None else process(value) for value, process in zip(row, processors, strict=True)]
        for row in rows
    ]
    items = func.json_each(bindparam("rows", json.dumps(plain))).table_valued("value")
    return select(*(func.json_extract(items.c.value, f"$[{i}]").label(name) for i, name in enumerate(names))).subquery()


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, unique: Sequence[str] = ()) -> int:
    """Insert `rows` (dicts with the same keys), skipping those that collide on `unique`; the count
    inserted. One statement on PostgreSQL (`INSERT ... SELECT` from `rows_source`); an executemany
    on SQLite, which sqlite3 runs in C."""
    if not rows:
        return 0
    if conn.dialect.name != "postgresql":
        return int(conn.execute(_insert(conn, table, unique), list(rows)).rowcount)
    return len(insert_returning(conn, table, rows, [next(iter(rows[0]))], unique=unique))


def insert_returning(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    *,
    unique: Sequence[str] = (),
) -> Sequence[Row[Any]]:
    """`insert_rows`, returning `columns` of the rows inserted, in no particular order. On SQLite,
    SQLAlchemy batches the rows into multi-row VALUES statements (as cheap per row, measured)."""
    if not rows:
        return []
    returned = [table.c[c] for c in columns]
    if conn.dialect.name != "postgresql":
        return conn.execute(_insert(conn, table, unique).returning(*returned), list(rows)).all()
    names = list(rows[0])
    source: FromClause = rows_source(conn, [(c, table.c[c].type) for c in names], [[r[c] for c in names] for r in rows])
    statement = _insert(conn, table, unique, select(*(source.c[c] for c in names)), names)
    return conn.execute(statement.returning(*returned)).all()


def _insert(
    conn: Connection, table: Table, unique: Sequence[str], source: Any = None, names: Sequence[str] = ()
) -> Any:
    """INSERT into `table` (from `source` if given), doing nothing on a collision on `unique`."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    if source is not None:
        statement = statement.from_select(list(names), source)
    if unique:
        statement = statement.on_conflict_do_nothing(index_elements=list(unique))
    return statement
