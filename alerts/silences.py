"""Silences, Alertmanager-style: mute the deliveries of some notices for a while.

A silence names one subject (a milestone's id, say) or one tag, optionally a glob of notice types
(`milestone.overdue`, `milestone.*`; default `*`), an end and a reason. A notice it matches while it
holds is still created, so the history stays complete, but each of its deliveries is recorded as
`silenced` instead of being sent. Silenced deliveries are final: when the silence ends nothing of
what it held back is sent, and the next notice goes as usual.

`silencing` is the decision, pure (no database, no clock); `alerts.silence_store` stores silences.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase


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
