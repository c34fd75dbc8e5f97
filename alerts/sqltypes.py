"""Column types shared by every table: instants that always come back timezone-aware UTC."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text, cast
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and read back aware, on SQLite (which forgets zones) and PostgreSQL.

    Naive datetimes are refused on the way in: a naive value is a bug, never "probably UTC".
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        # SQLite's DATETIME stores "YYYY-MM-DD HH:MM:SS.ffffff"; formatting it in one C call is five
        # times cheaper than process_bind_param plus SQLAlchemy's formatter (polls write thousands).
        # A batch writes the same instant into many rows and columns: the last one is remembered
        # (one tuple, replaced whole, so threads sharing this processor never see half of it).
        check = self.process_bind_param
        last: tuple[datetime | None, str | None] = (None, None)

        def process(value: datetime | None) -> str | None:
            nonlocal last
            seen, text = last
            if value is seen:
                return text
            if value is not None and value.tzinfo is UTC:  # the common case, checked without a call
                text = value.replace(tzinfo=None).isoformat(" ", "microseconds")
            else:
                naive = check(value, dialect)
                text = None if naive is None else naive.isoformat(" ", "microseconds")
            last = (value, text)
            return text

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # The stored text is parsed in C, and remembered: a claim reads thousands of rows whose
        # instants are mostly the same few (the moment of the last poll, of the last claim).
        fallback = self.process_result_value

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if type(value) is str:
                return _stored(value)
            return fallback(value, dialect)

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            return _stored(value)
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@functools.lru_cache(maxsize=1024)
def _stored(text: str) -> datetime:
    """An instant as SQLite holds it (naive UTC, or with an offset if written by hand), aware UTC."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stored_text(column: Any) -> Any:
    """A JSON column read as its stored text, labelled as the column: decoded only where needed
    (`json_strings`), or not at all (a notice's payload is a webhook body as stored)."""
    return cast(column, Text).label(column.name)


@functools.lru_cache(maxsize=1024)
def json_strings(text: str | None) -> tuple[str, ...]:
    """A JSON list of strings read as its stored text (`CAST(column AS TEXT)`), decoded once per
    distinct text: the rows of a batch share a handful of tag lists."""
    return () if text is None else tuple(json.loads(text) or ())


def utcnow() -> datetime:
    """The one clock: aware UTC (freezegun controls it in tests)."""
    return datetime.now(UTC)
