"""Publishing notices: the one way in. Insertion is idempotent by key, so a rerun, a restart or a
second worker can publish the same notice again without creating it twice (a unique constraint
decides, not a check-then-insert)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from alerts.batch_rows import insert_rows
from alerts.models import Notice, NoticeSubject
from alerts.newnotice import NewNotice

NOTICES: Table = Notice.__table__  # type: ignore[attr-defined]
NOTICE_SUBJECTS: Table = NoticeSubject.__table__  # type: ignore[attr-defined]
__all__ = ["CHANNEL", "NOTICES", "NOTICE_SUBJECTS", "NewNotice", "about", "existing_keys", "publish"]

CHANNEL = "timeline_notices"
"""The PostgreSQL channel told, when the transaction commits, that notices were created: workers
listening on it start a delivery pass at once instead of at their next tick."""


def publish(conn: Connection, notices: Iterable[NewNotice], now: datetime) -> list[str]:
    """Insert `notices`; return the keys that were new. Existing keys are left as they are."""
    notices = list(notices)
    rows = [
        {
            "key": n.key,
            "type": n.type,
            "subject": n.subjects[0] if n.subjects else None,
            "subjects": list(n.subjects),
            "tags": list(n.tags),
            "occurred_at": n.occurred_at,
            "created_at": now,
            "payload": n.payload(),
        }
        for n in notices
    ]
    if not rows:
        return []
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    subjects: dict[str, dict[str, None]] = {}
    for n in notices:  # a key given twice is inserted as first given
        subjects.setdefault(n.key, dict.fromkeys(n.subjects))
    created: list[str] = []
    for start in range(0, len(rows), 500):
        statement = (
            insert(NOTICES).on_conflict_do_nothing(index_elements=["key"]).returning(NOTICES.c.id, NOTICES.c.key)
        )
        new = conn.execute(statement, rows[start : start + 500]).all()
        created.extend(key for _, key in new)
        pairs = [(notice_id, subject) for notice_id, key in new for subject in subjects[key]]
        insert_rows(conn, NOTICE_SUBJECTS, ("notice_id", "subject"), pairs)
    if created and conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_notify(CHANNEL, "")))
    return created


def about(subject: str) -> Any:
    """A WHERE clause on `notices`: the notices that have `subject` among their subjects."""
    ns = NOTICE_SUBJECTS.c
    return NOTICES.c.id.in_(select(ns.notice_id).where(ns.subject == subject))


def existing_keys(conn: Connection, subjects: Sequence[str]) -> set[str]:
    """Keys of the notices already created about any of `subjects`."""
    keys: set[str] = set()
    for start in range(0, len(subjects), 500):
        chunk = list(subjects[start : start + 500])
        query = NOTICES.select().with_only_columns(NOTICES.c.key).where(NOTICES.c.subject.in_(chunk))
        keys.update(conn.execute(query).scalars())
    return keys
