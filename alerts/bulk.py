"""Many rows in one statement: a batch sent as a table the database unpacks.

An executemany costs a statement per row on the server and, in SQLAlchemy, a round of parameter
processing per row in Python; a multi-row VALUES list is re-parsed by psycopg in Python when it has
more than 50 parameters. `rows_source` sends a batch as one parameter per column on PostgreSQL
(`unnest` of arrays) and as one JSON array on SQLite (`json_each`), so inserts and updates of
thousands of rows are one statement each.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, Table, bindparam, func, select, true
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
    statement = _insert_from(conn, table, columns, rows, shared or {}, unique)
    # An INSERT's row count is kept only when asked for (psycopg's cursor is closed by then).
    return int(conn.execute(statement, execution_options={"preserve_rowcount": True}).rowcount)


def insert_returning(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    returning: Sequence[str],
    *,
    shared: Mapping[str, Any] | None = None,
    unique: Sequence[str] = (),
) -> Sequence[Row[Any]]:
    """`insert_rows`, returning the `returning` columns of the rows inserted, in no particular order."""
    if not rows:
        return []
    statement = _insert_from(conn, table, columns, rows, shared or {}, unique)
    return conn.execute(statement.returning(*(table.c[c] for c in returning))).all()


def _insert_from(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    shared: Mapping[str, Any],
    unique: Sequence[str],
) -> Any:
    """INSERT into `table` from `rows_source` (one statement, whatever the number of rows), doing
    nothing on a collision on `unique`."""
    source = rows_source(conn, [(c, table.c[c].type) for c in columns], rows)
    values = [source.c[c] for c in columns]
    values += [bindparam(f"shared_{name}", value, type_=table.c[name].type) for name, value in shared.items()]
    # SQLite reads `ON CONFLICT` after a bare `SELECT ... FROM` as a join's constraint: a WHERE ends it.
    select_from = select(*values).where(true())
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).from_select([*columns, *shared], select_from)
    if unique:
        statement = statement.on_conflict_do_nothing(index_elements=list(unique))
    return statement
