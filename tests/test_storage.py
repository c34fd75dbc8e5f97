"""Storage contract, run on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.exc import OperationalError
from sqlmodel import SQLModel

import timeline.tables  # noqa: F401  (every table in SQLModel.metadata)
from alerts.engines import BUSY_TIMEOUT_MS
from alerts.notices import NOTICE_SUBJECTS, NOTICES, NewNotice, existing_keys, publish
from alerts.sqltypes import UTCDateTime
from timeline.db import alembic_config, upgrade


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)


def test_notice_subjects_are_filled_in_for_notices_stored_before_0004(engine: Engine) -> None:
    """Migration 0004 indexes every subject of the notices already stored; new ones get theirs on publish."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        publish(conn, [_notice("old", at), replace(_notice("two", at), subjects=("m1", "m2"))], at)
        conn.execute(NOTICE_SUBJECTS.delete())
    config = alembic_config(engine)
    command.downgrade(config, "0003")
    command.upgrade(config, "head")
    with engine.begin() as conn:
        publish(conn, [replace(_notice("new", at), subjects=("m2", "m3", "m2"))], at)
        rows = conn.execute(
            select(NOTICES.c.key, NOTICE_SUBJECTS.c.subject).join(NOTICE_SUBJECTS).order_by(NOTICES.c.key, "subject")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("new", "m2"),
        ("new", "m3"),
        ("old", "m1"),
        ("two", "m1"),
        ("two", "m2"),
    ]


def _notice(key: str, at: datetime) -> NewNotice:
    return NewNotice(type="test.ping", key=key, occurred_at=at, data={"n": 1}, subjects=("m1",), tags=("t",))


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    paris_summer = timezone(timedelta(hours=2))
    at = datetime(2026, 7, 1, 12, 0, tzinfo=paris_summer)
    with engine.begin() as conn:
        publish(conn, [_notice("k1", at)], now=at)
    with engine.connect() as conn:
        stored = conn.execute(select(NOTICES.c.occurred_at)).scalar_one()
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 3, 1, 12, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
    ],
)
def test_sqlite_stores_instants_as_sqlalchemy_does(engine: Engine, at: datetime) -> None:
    """UTCDateTime formats SQLite text itself (for speed): it must be SQLAlchemy's own format, so that
    rows written before and after compare and sort alike, and read back as the same instant."""
    with engine.begin() as conn:
        publish(conn, [_notice("k", at)], now=at)
    with engine.connect() as conn:
        assert conn.execute(select(NOTICES.c.occurred_at)).scalar_one() == at
        if engine.dialect.name == "sqlite":
            raw = conn.execute(text("SELECT occurred_at FROM notices")).scalar_one()
            assert raw == DATETIME().bind_processor(engine.dialect)(at.replace(tzinfo=None))  # type: ignore[misc]
            later = at + timedelta(microseconds=1)
            assert conn.execute(select(NOTICES.c.key).where(NOTICES.c.occurred_at < later)).scalar_one() == "k"


_ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.datetimes(
                min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30), timezones=st.sampled_from(_ZONES)
            ),
        ),
        max_size=8,
    ),
    st.lists(st.integers(min_value=0, max_value=7), max_size=20),
)
def test_the_sqlite_instant_processor_formats_every_value_it_is_given(
    values: list[datetime | None], picks: list[int]
) -> None:
    """It remembers the last instant it formatted (batches repeat one); repeats, alternations and
    other zones must still come out as SQLAlchemy's own text of the UTC instant."""
    process = UTCDateTime().bind_processor(sqlite.dialect())
    assert process is not None
    reference = DATETIME().bind_processor(sqlite.dialect())
    assert reference is not None
    for i in picks or range(len(values)):
        if not values:
            break
        value = values[i % len(values)]
        expected = None if value is None else reference(value.astimezone(UTC).replace(tzinfo=None))
        assert process(value) == expected


@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30)),
            st.sampled_from(["", "+00:00", "+05:30", "-08:00"]),
        ),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.integers(min_value=0, max_value=7), max_size=20),
)
def test_the_sqlite_instant_reader_reads_every_text_it_is_given(
    stored: list[tuple[datetime, str]], picks: list[int]
) -> None:
    """It remembers the texts it parsed (claims read the same few instants in thousands of rows):
    repeats and neighbours must still read as the instant each text says, aware UTC."""
    process = UTCDateTime().result_processor(sqlite.dialect(), None)
    assert process is not None
    for i in picks or range(len(stored)):
        naive, offset = stored[i % len(stored)]
        text = naive.isoformat(" ", "microseconds") + offset
        expected = datetime.fromisoformat(text + ("" if offset else "+00:00")).astimezone(UTC)
        read = process(text)
        assert read == expected and read.tzinfo is UTC and read.isoformat() == expected.isoformat()


def test_sqlite_text_with_an_offset_reads_back_as_the_same_instant(sqlite_engine: Engine) -> None:
    """Rows written by hand (or by another tool) may carry an offset: read as UTC, not as a naive time."""
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    with sqlite_engine.begin() as conn:
        publish(conn, [_notice("k", at)], now=at)
        conn.execute(text("UPDATE notices SET occurred_at = '2026-03-01 13:30:00.000000+01:30'"))
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(NOTICES.c.occurred_at)).scalar_one() == at
        assert conn.execute(select(NOTICES.c.occurred_at)).scalar_one().tzinfo is UTC


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), engine.begin() as conn:
        publish(conn, [_notice("k1", datetime(2026, 1, 1))], now=datetime.now(UTC))


def test_publish_creates_each_key_once(engine: Engine) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        assert publish(conn, [_notice("a", now), _notice("b", now)], now) == ["a", "b"]
    with engine.begin() as conn:
        assert publish(conn, [_notice("b", now), _notice("c", now)], now) == ["c"]
        assert existing_keys(conn, ["m1"]) == {"a", "b", "c"}
    with engine.connect() as conn:
        payload = conn.execute(select(NOTICES.c.payload).where(NOTICES.c.key == "a")).scalar_one()
    assert payload == {"type": "test.ping", "timestamp": "2026-01-01T00:00:00Z", "data": {"n": 1}}


@pytest.mark.postgres
def test_workers_starting_together_migrate_and_sync_once(pg_url: str, tmp_path: Path) -> None:
    """Four processes' worth of start-up at once on a fresh PostgreSQL database: no duplicate tables,
    no duplicate rows, one change history."""
    from tests.conftest import fresh_database
    from timeline.db import make_engine
    from timeline.sync import sync_config

    path = tmp_path / "milestones.yaml"
    path.write_text("milestones:\n" + "".join(f"  - id: m{i}\n    title: M{i}\n    when: 2027\n" for i in range(20)))
    now = datetime(2026, 1, 1, tzinfo=UTC)

    with fresh_database("timeline_race") as url:

        def start() -> None:
            engine = make_engine(url)
            try:
                upgrade(engine)
                sync_config(engine, path, now)
            finally:
                engine.dispose()

        with ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(start) for _ in range(4)]:
                future.result()
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM milestones")).scalar_one() == 20
            assert conn.execute(text("SELECT count(*) FROM milestone_changes")).scalar_one() == 20
        engine.dispose()


def test_concurrent_scans_create_each_notice_once(engine: Engine, tmp_path: Path) -> None:
    from timeline.scan import scan_due
    from timeline.sync import sync_config

    path = tmp_path / "milestones.yaml"
    path.write_text(
        "milestones:\n" + "".join(f"  - id: m{i}\n    title: M{i}\n    when: 2026-06\n" for i in range(200))
    )
    sync_config(engine, path, datetime(2026, 1, 1, tzinfo=UTC))
    due = datetime(2026, 7, 1, 0, 0, 1, tzinfo=UTC)
    with ThreadPoolExecutor(4) as pool:
        created = [key for keys in pool.map(lambda _: scan_due(engine, due), range(4)) for key in keys]
    assert len(created) == len(set(created)) == 200
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notices")).scalar_one() == 200


def test_sqlite_connections_are_set_up_for_a_service(sqlite_engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and temporary data (statement journals) in memory."""
    with sqlite_engine.connect() as conn:
        pragmas = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar_one() for name in PRAGMAS}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": BUSY_TIMEOUT_MS, "temp_store": 2}


PRAGMAS = ("journal_mode", "foreign_keys", "busy_timeout", "temp_store")


def test_a_nowait_write_on_sqlite_fails_at_once_while_another_holds_the_lock(sqlite_engine: Engine) -> None:
    """`sqlite_immediate="nowait"` takes the write lock only if it is free; the connection's busy
    timeout is back afterwards: the next ordinary write on it waits for the lock, as before."""
    nowait = sqlite_engine.execution_options(sqlite_immediate="nowait")
    with sqlite_engine.execution_options(sqlite_immediate=True).connect() as holder:
        holder.begin()
        started = time.monotonic()
        with pytest.raises(OperationalError) as refused, nowait.begin():
            pytest.fail("began while another connection held the write lock")
        assert time.monotonic() - started < 1
        assert refused.value.orig.sqlite_errorcode == sqlite3.SQLITE_BUSY  # type: ignore[union-attr]
        threading.Timer(0.3, holder.rollback).start()
        with sqlite_engine.execution_options(sqlite_immediate=True).begin() as conn:  # the same pooled connection
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == BUSY_TIMEOUT_MS
    with nowait.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE free (x INTEGER)")
