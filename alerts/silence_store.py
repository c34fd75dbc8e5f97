"""Storing silences (see `alerts.silences` for what they do): add, list, expire. Each function takes a
connection (the caller owns the transaction) and `now`."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, Table, insert, select, update

from alerts.errors import NotFoundError, SilenceError
from alerts.models import Silence as SilenceRow
from alerts.silences import Silence

SILENCES: Table = SilenceRow.__table__  # type: ignore[attr-defined]
MAX_TEXT = 200
MAX_REASON = 2000


def _silence(row: Row[Any]) -> Silence:
    return Silence(
        id=row.id,
        subject=row.subject,
        tag=row.tag,
        types=row.types,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reason=row.reason,
        created_at=row.created_at,
        expired_at=row.expired_at,
    )


def _text(value: Any, field: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SilenceError(f"{field} is a non-empty text", field=field)
    text: str = value.strip()
    if len(text) > limit:
        raise SilenceError(f"{field} is at most {limit} characters", field=field)
    return text


def add_silence(
    conn: Connection,
    now: datetime,
    *,
    until: datetime,
    reason: str,
    subject: str | None = None,
    tag: str | None = None,
    types: str | None = None,
) -> Silence:
    """Create a silence from `now` until `until`. Exactly one of `subject` and `tag` is given;
    SilenceError names the field that is wrong."""
    subject = _text(subject, "milestone", MAX_TEXT)
    tag = _text(tag, "tag", MAX_TEXT)
    if (subject is None) == (tag is None):
        raise SilenceError("name either a milestone or a tag to silence (one of the two)", field="milestone")
    pattern = _text(types, "type", MAX_TEXT) or "*"
    text = _text(reason, "reason", MAX_REASON)
    if text is None:
        raise SilenceError("reason is required: say why the notices are muted", field="reason")
    if until.tzinfo is None:
        raise SilenceError("until needs a time zone (or a date)", field="until")
    if until <= now:
        raise SilenceError(f"until ({until:%Y-%m-%d %H:%M} UTC) is already past", field="until")
    silence_id = "sil_" + secrets.token_hex(6)
    conn.execute(
        insert(SILENCES).values(
            id=silence_id,
            subject=subject,
            tag=tag,
            types=pattern,
            starts_at=now,
            ends_at=until,
            reason=text,
            created_at=now,
        )
    )
    return get_silence(conn, silence_id)


def get_silence(conn: Connection, silence_id: str) -> Silence:
    row = conn.execute(select(SILENCES).where(SILENCES.c.id == silence_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no silence {silence_id!r}; `timeline silences` lists them")
    return _silence(row)


def list_silences(conn: Connection, now: datetime, *, ended: bool = False) -> list[Silence]:
    """The silences holding at `now` (with `ended`, every one), those ending first first."""
    query = select(SILENCES).order_by(SILENCES.c.ends_at, SILENCES.c.id)
    if not ended:
        query = query.where(SILENCES.c.starts_at <= now, SILENCES.c.ends_at > now)
    return [_silence(row) for row in conn.execute(query)]


def active_silences(conn: Connection, now: datetime) -> list[Silence]:
    """The silences holding at `now`, for a fan-out to apply."""
    return list_silences(conn, now)


def expire_silence(conn: Connection, silence_id: str, now: datetime) -> Silence:
    """End a silence now. Notices created from now on are delivered as usual; what it muted stays
    muted. Expiring one that has already ended changes nothing."""
    silence = get_silence(conn, silence_id)
    if silence.ends_at > now:
        s = SILENCES.c
        conn.execute(update(SILENCES).where(s.id == silence_id, s.ends_at > now).values(ends_at=now, expired_at=now))
    return get_silence(conn, silence_id)
