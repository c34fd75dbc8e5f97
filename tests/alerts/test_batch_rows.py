"""Batch inserts (`alerts.batch_rows`) on SQLite and PostgreSQL: one statement, values stored exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from alerts.batch_rows import insert_returning, insert_rows
from alerts.sqltypes import UTCDateTime

NOW = datetime(2026, 3, 1, 9, 30, 15, 123_457, tzinfo=UTC)
ZONES = (UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30)))
COLUMNS = ("key", "number", "ratio", "label", "at")
_texts = st.one_of(
    st.none(), st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
)
_instants = st.one_of(
    st.none(),
    st.datetimes(datetime(1970, 1, 2), datetime(2999, 12, 31), timezones=st.sampled_from(ZONES)),
)
_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
        st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=32)),
        _texts,
        _instants,
    ),
    max_size=20,
)


def _table() -> Table:
    """A temporary table with a column of each kind the outbox inserts: gone with its connection."""
    return Table(
        "bulk_probe",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key", String(40), nullable=False, unique=True),
        Column("number", Integer),
        Column("ratio", Float),
        Column("label", Text),
        Column("at", UTCDateTime),
        Column("flag", Boolean),
        Column("note", Text),
        Column("when", UTCDateTime),
        prefixes=["TEMPORARY"],
    )


def _stored(conn: Connection, table: Table, key: str) -> tuple[Any, ...]:
    """A row as read back, and its columns as the database holds them in text."""
    c = table.c
    row = conn.execute(select(table).where(c.key == key)).one()
    raw = conn.execute(select(*(c[name].cast(Text) for name in row._fields[2:])).where(c.key == key)).one()
    return (*row[2:], *raw)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_rows, flag=st.booleans(), note=_texts, when=_instants)
def test_a_batch_stores_each_value_as_a_single_row_insert_does(
    engine: Engine, rows: list[tuple[Any, ...]], flag: bool, note: str | None, when: datetime | None
) -> None:
    """Every row of a batch, and the values it shares, read back (and are held, as text) exactly as
    the same values inserted one row at a time."""
    table = _table()
    shared = {"flag": flag, "note": note, "when": when}
    with engine.connect() as conn:
        table.create(conn)
        batch = [(f"b{i}", *row) for i, row in enumerate(rows)]
        assert insert_rows(conn, table, COLUMNS, batch, shared=shared) == len(batch)
        for i, row in enumerate(rows):
            conn.execute(insert(table).values({**dict(zip(COLUMNS, (f"s{i}", *row), strict=True)), **shared}))
        for i in range(len(rows)):
            assert _stored(conn, table, f"b{i}") == _stored(conn, table, f"s{i}")
        conn.rollback()


def test_conflicting_rows_are_skipped_and_not_counted(engine: Engine) -> None:
    table = _table()
    with engine.connect() as conn:
        table.create(conn)
        first = [("a", 1, None, "x", NOW), ("b", 2, 0.5, None, None)]
        assert insert_rows(conn, table, COLUMNS, first, unique=["key"]) == 2
        again = [("a", 9, None, "y", NOW), ("c", 3, None, "z", NOW + timedelta(seconds=1))]
        new = insert_returning(conn, table, COLUMNS, again, ("key", "number"), shared={"flag": True}, unique=["key"])
        assert [tuple(row) for row in new] == [("c", 3)]
        stored = {row.key: (row.number, row.flag) for row in conn.execute(select(table))}
        assert stored == {"a": (1, None), "b": (2, None), "c": (3, True)}
        assert insert_rows(conn, table, COLUMNS, [], shared={"flag": True}) == 0
        assert insert_returning(conn, table, COLUMNS, [], ("key",)) == []
        conn.rollback()
