"""Silences, Alertmanager-style: mute the deliveries of some notices for a while.

A silence names one subject (a milestone's id, say) or one tag, optionally a glob of notice types
(`milestone.overdue`, `milestone.*`; default `*`), an end and a reason. A notice it matches while it
holds is still created, so the history stays complete, but each of its deliveries is recorded as
`silenced` instead of being sent. Silenced deliveries are final: when the silence ends nothing of
what it held back is sent, and the next notice goes as usual.

`silencing` is the decision, pure (no database, no clock); the rest stores silences. Functions that
store take a connection (the caller owns the transaction) and `now`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import Connection, Row, Table, insert, select, update

from alerts.errors import NotFoundError, SilenceError
from alerts.models import Silence as SilenceRow

SILENCES: Table = SilenceRow.__table__  # type: ignore[attr-defined]
MAX_TEXT = 200
MAX_REASON = 2000


@dataclass(frozen=True)
class Silence:
    """A silence as stored. It holds from `starts_at` (inclusive) to `ends_at` (exclusive)."""

    id: str
    subject: str | None
    tag: str | None
    types: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime
    expired_at: datetime | None = None

    def holds(self, now: datetime) -> bool:
        """Whether the silence mutes what happens at `now`."""
        return self.starts_at <= now < self.ends_at

    def matches(self, notice_type: str, tags: Sequence[str], subjects: Sequence[str]) -> bool:
        """Whether a notice of `notice_type` carrying `tags` and `subjects` is one this silence names."""
        if not fnmatchcase(notice_type, self.types):
            return False
        if self.subject is not None and self.subject not in subjects:
            return False
        return not (self.tag is not None and self.tag not in tags)


def silencing(
    silences: Iterable[Silence], notice_type: str, tags: Sequence[str], subjects: Sequence[str], now: datetime
) -> Silence | None:
    """The silence that mutes a notice of `notice_type` with `tags` and `subjects` created at `now`,
    or None when it is to be sent. Of several, the one that ends last."""
    holding = [s for s in silences if s.holds(now) and s.matches(notice_type, tags, subjects)]
    return max(holding, key=lambda s: (s.ends_at, s.id)) if holding else None


def silenced_note(silence: Silence) -> str:
    """What a silenced delivery records as the reason it was not sent."""
    return f"silenced by {silence.id} until {silence.ends_at:%Y-%m-%d %H:%M} UTC: {silence.reason}"


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
