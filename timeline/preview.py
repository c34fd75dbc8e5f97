"""`timeline preview`: what the due scan would create between two instants, without side effects.

It runs the same `rules.decide` the scan runs, at every instant a stage begins, on the config file's
milestones and the notices already in the database (read only, if the database exists).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, select

from alerts.notices import NOTICES, NewNotice
from timeline import rules
from timeline.config.milestones import MilestoneDef
from timeline.db import make_engine
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


def preview(
    settings: Settings, milestones: list[MilestoneDef], start: datetime, end: datetime
) -> list[tuple[datetime, NewNotice]]:
    """Each notice the scan would create in `[start, end)`, with the instant it would be created."""
    sent, known = _known(settings, [m.id for m in milestones])
    planned: list[tuple[datetime, NewNotice]] = []
    for m in milestones:
        since = known.get(m.id, start)
        moment: datetime | None = start
        while moment is not None and moment < end:
            decision = rules.decide(m, sent, moment, since, settings.notify_past)
            for notice in decision.notices:
                sent.add(notice.key)
                planned.append((moment, notice))
            moment = decision.next_check_at
    return sorted(planned, key=lambda item: (item[0], item[1].key))
