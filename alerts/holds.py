"""What holds a new delivery back, decided when a notice fans out (pure: no database, no clock).

A silence that names the notice makes its deliveries `silenced` (final: never sent). A subscription
with a digest schedule gets its deliveries `collected`, to be sent in its next digest (a digest itself
is sent as usual). A subscription's quiet hours make a delivery due when they end instead of now.
Everything else is due now. Retries that come due inside quiet hours are moved the same way
(`quiet_due`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from alerts.digests import DIGEST
from alerts.quiet import QuietHours, parse_quiet, release_at
from alerts.silences import Silence, silenced_note, silencing

P = TypeVar("P")


@dataclass(frozen=True)
class Held(Generic[P]):
    """The pairs of a fan-out sorted by what becomes of them: `now` (due now), `later` (due at the
    given instant, the end of quiet hours), `silenced` (with the note to record) and `collected`
    (for a digest)."""

    now: list[P]
    later: list[tuple[P, datetime]]
    silenced: list[tuple[P, str]]
    collected: list[P]


def quiet_hours(texts: Mapping[str, str | None]) -> dict[str, QuietHours]:
    """The quiet hours of each subscription id whose stored text reads as quiet hours."""
    found: dict[str, QuietHours] = {}
    for sub_id, text in texts.items():
        parsed = parse_quiet(text) if text else None
        if isinstance(parsed, QuietHours):
            found[sub_id] = parsed
    return found


def quiet_due(quiet: QuietHours | None, due: datetime) -> datetime:
    """When a delivery due at `due` may go, given its subscription's quiet hours (if any)."""
    return due if quiet is None else release_at(quiet, due)


def hold(
    pairs: Iterable[P],
    notice_of: Callable[[P], tuple[str, Sequence[str], Sequence[str]]],
    subscription_of: Callable[[P], str],
    silences: Sequence[Silence],
    quiet: Mapping[str, QuietHours],
    now: datetime,
    digesting: Collection[str] = (),
) -> Held[P]:
    """Sort (notice, subscription) `pairs`: `notice_of(pair)` gives the notice's type, tags and
    subjects, `subscription_of(pair)` its subscription's id; `digesting` names the subscriptions
    with a digest schedule."""
    go: list[P] = []
    later: list[tuple[P, datetime]] = []
    muted: list[tuple[P, str]] = []
    collected: list[P] = []
    for pair in pairs:
        kind, tags, subjects = notice_of(pair)
        silence = silencing(silences, kind, tags, subjects, now) if silences else None
        if silence is not None:
            muted.append((pair, silenced_note(silence)))
            continue
        sub_id = subscription_of(pair)
        if sub_id in digesting and kind != DIGEST:
            collected.append(pair)
            continue
        window = quiet.get(sub_id)
        due = quiet_due(window, now)
        if due > now:
            later.append((pair, due))
        else:
            go.append(pair)
    return Held(go, later, muted, collected)
