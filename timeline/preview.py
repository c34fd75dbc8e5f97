"""`timeline preview`: what the due scan would create between two instants, without side effects.

It runs the same `rules.decide` the scan runs, at every instant a stage begins, on the config file's
milestones and the notices already in the database (read only, if the database exists).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, select

from alerts.notices import NOTICES, NewNotice
from timeline import rules
from timeline.config.milestones import MilestoneDef
from timeline.db import make_engine
from timeline.humanize import instant, plural
from timeline.settings import Settings
from timeline.store import MILESTONES


def _known(settings: Settings, ids: list[str]) -> tuple[set[str], dict[str, datetime]]:
    """Keys already created and when each milestone became known, if the database has them."""
    url = settings.database_url
    if url.startswith("sqlite") and not Path(url.split(":///", 1)[-1]).is_file():
        return set(), {}  # no database yet, and a preview must not create one
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("notices"):
            return set(), {}
        with engine.connect() as conn:
            sent = set(conn.execute(select(NOTICES.c.key).where(NOTICES.c.subject.in_(ids))).scalars())
            known = {row.id: row.created_at for row in conn.execute(select(MILESTONES.c.id, MILESTONES.c.created_at))}
        return sent, known
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Preview:
    """The notices the scan would create, each with the instant it would create it, in time order;
    and the milestones whose preview starts later than the `start` asked for, with when."""

    start: datetime
    planned: list[tuple[datetime, NewNotice]]
    starts_later: list[tuple[str, datetime]]

    def __iter__(self) -> Iterator[tuple[datetime, NewNotice]]:
        return iter(self.planned)

    def notes(self) -> list[str]:
        """What a person should know about where the preview starts, in plain words."""
        if not self.starts_later:
            return []
        by_date: dict[datetime, list[str]] = {}
        for mid, at in self.starts_later:
            by_date.setdefault(at, []).append(mid)
        why = (
            "what came due before a milestone was first synced is history, not sent "
            "(TIMELINE_NOTIFY_PAST=true sends it)"
        )
        count = len(self.starts_later)
        if len(by_date) == 1:
            (at,) = by_date
            who = "this milestone was" if count == 1 else f"these {count} milestones were"
            return [f"Asked from {instant(self.start)}; shown from {instant(at)}, when {who} first synced: {why}."]
        lines = [
            f"Asked from {instant(self.start)}; {plural(count, 'milestone')} shown from when each was first "
            f"synced: {why}."
        ]
        for at in sorted(by_date):
            ids = by_date[at]
            shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
            lines.append(f"  from {instant(at)}: {shown}")
        return lines


def preview(settings: Settings, milestones: list[MilestoneDef], start: datetime, end: datetime) -> Preview:
    """Each notice the scan would create in `[start, end)`, with the instant it would be created.

    A milestone already in the database is previewed from when it was first synced if that is later
    than `start` (before, the service did not know it; the stages that began earlier are history
    unless `notify_past`), and listed in `starts_later`."""
    sent, known = _known(settings, [m.id for m in milestones])
    planned: list[tuple[datetime, NewNotice]] = []
    later: list[tuple[str, datetime]] = []
    for m in milestones:
        since = known.get(m.id, start)
        if since > start and not settings.notify_past:
            later.append((m.id, since))
        moment: datetime | None = start
        while moment is not None and moment < end:
            decision = rules.decide(m, sent, moment, since, settings.notify_past)
            for notice in decision.notices:
                sent.add(notice.key)
                planned.append((moment, notice))
            moment = decision.next_check_at
    return Preview(start, sorted(planned, key=lambda item: (item[0], item[1].key)), later)
