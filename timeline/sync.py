"""Config sync: the milestones file against the database.

`diff` is pure: config definitions and stored ones in, a list of `Change`s out. `apply` writes them
in the caller's transaction: rows upserted, removed milestones archived (never deleted), each change
recorded with its time, and the notices the changes call for published in the same transaction,
so a change is never recorded without its notice or notified twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from alerts.config import AlertsConfig
from alerts.notices import NewNotice, publish
from alerts.subscriptions import SyncResult as SubscriptionsSync
from alerts.subscriptions import sync_config_subscriptions
from timeline.config.bundle import ConfigBundle, link_problems
from timeline.config.milestones import MilestoneDef
from timeline.dates import slip_days, utc_text
from timeline.db import CONFIG_LOCK, advisory_lock, write_transaction
from timeline.errors import ConfigError
from timeline.feeds.store import FeedsSync, sync_feeds
from timeline.rules import milestone_data
from timeline.store import CHANGES, MILESTONES, snapshot, to_def, to_values
from timeline.wording import change_message, moves

log = logging.getLogger(__name__)

_EDIT_FIELDS = ("title", "subject", "tags", "source", "notes", "attributes", "remind", "grace", "repeat")


@dataclass(frozen=True)
class Change:
    """One difference between the file and the database."""

    kind: str  # added | removed | rescheduled | status_changed | edited
    milestone: MilestoneDef
    before: MilestoneDef | None = None
    fields: tuple[str, ...] = ()

    @property
    def slip_days(self) -> int | None:
        if self.kind != "rescheduled" or self.before is None:
            return None
        return slip_days(self.before.schedule, self.milestone.schedule)

    def describe(self) -> str:
        m = self.milestone
        if self.kind == "rescheduled" and self.before is not None:
            return f"rescheduled {m.id}: {'; '.join(moves(self.before.schedule, m.schedule))}"
        if self.kind == "status_changed" and self.before is not None:
            return f"status of {m.id}: {self.before.status} → {m.status}"
        if self.kind == "edited":
            return f"edited {m.id}: {', '.join(self.fields)}"
        return f"{self.kind} {m.id}: {m.title} ({m.schedule.describe()})"


@dataclass(frozen=True)
class Stored:
    """A milestone as the database holds it. Only the config's own rows are read in full: of the
    others (created through the API) only the id matters, and a large API timeline costs nothing."""

    milestone: MilestoneDef | None
    origin: str
    archived: bool


def diff(config: list[MilestoneDef], stored: dict[str, Stored]) -> list[Change]:
    """What applying `config` would change. Milestones created through the API are never touched."""
    changes: list[Change] = []
    wanted = {m.id: m for m in config}
    for m in config:
        old = stored.get(m.id)
        if old is None or old.archived:
            changes.append(Change("added", m, old.milestone if old else None))
            continue
        if old.origin != "config" or old.milestone is None:
            continue
        before = old.milestone
        if before.schedule != m.schedule or before.timezone != m.timezone:
            changes.append(Change("rescheduled", m, before))
        if before.status != m.status:
            changes.append(Change("status_changed", m, before))
        edited = tuple(f for f in _EDIT_FIELDS if getattr(before, f) != getattr(m, f))
        if edited:
            changes.append(Change("edited", m, before, edited))
    for mid, old in stored.items():
        if mid not in wanted and old.milestone is not None and old.origin == "config" and not old.archived:
            changes.append(Change("removed", old.milestone, old.milestone))
    return changes


def stored_milestones(conn: Connection) -> dict[str, Stored]:
    m = MILESTONES.c
    stored = {
        row.id: Stored(to_def(row), row.origin, row.archived_at is not None)
        for row in conn.execute(select(MILESTONES).where(m.origin == "config"))
    }
    others = select(m.id, m.origin, m.archived_at).where(m.origin != "config")
    stored.update({row.id: Stored(None, row.origin, row.archived_at is not None) for row in conn.execute(others)})
    return stored


def api_ids(stored: dict[str, Stored]) -> set[str]:
    """The ids of milestones created through the API and not deleted: a file may not reuse them."""
    return {mid for mid, s in stored.items() if s.origin != "config" and not s.archived}


def api_milestone_ids(conn: Connection) -> set[str]:
    """The same as `api_ids`, read on its own: for checking the files before applying them."""
    m = MILESTONES.c
    return set(conn.execute(select(m.id).where(m.origin != "config", m.archived_at.is_(None))).scalars())


def apply(
    conn: Connection,
    changes: list[Change],
    now: datetime,
    *,
    path: Path | None,
    origin: str = "config",
    quiet: bool = False,
    base_url: str | None = None,
) -> list[str]:
    """Write `changes`; return the keys of the notices created. `origin` is "config" (from `path`) or
    "api"; `quiet` records without notifying `added` (the first import of a file is not news);
    `base_url` (TIMELINE_PUBLIC_URL) is what the messages link to."""
    notices: list[NewNotice] = []
    known = set(conn.execute(select(MILESTONES.c.id)).scalars())
    for change in changes:
        m = change.milestone
        values = to_values(m) | {"updated_at": now, "next_check_at": now if m.active else None}
        if change.kind == "added":
            values |= {"archived_at": None, "origin": origin, "origin_path": str(path) if path else None}
            if m.id in known:
                conn.execute(update(MILESTONES).where(MILESTONES.c.id == m.id).values(values))
            else:
                conn.execute(insert(MILESTONES).values(values | {"created_at": now, "revision": 1}))
        elif change.kind == "removed":
            conn.execute(
                update(MILESTONES)
                .where(MILESTONES.c.id == m.id)
                .values(archived_at=now, updated_at=now, next_check_at=None)
            )
        else:
            statement = update(MILESTONES).where(MILESTONES.c.id == m.id).values(values)
            if change.kind == "rescheduled":
                statement = statement.values(revision=MILESTONES.c.revision + 1)
            conn.execute(statement)
        change_id = conn.execute(
            insert(CHANGES)
            .values(
                milestone_id=m.id,
                kind=change.kind,
                at=now,
                before=snapshot(change.before) if change.before else None,
                after=snapshot(m) if change.kind != "removed" else None,
                slip_days=change.slip_days,
            )
            .returning(CHANGES.c.id)
        ).scalar_one()
        notice = change_notice(change, change_id, now, base_url)
        if notice is not None and not (quiet and change.kind == "added"):
            notices.append(notice)
    return publish(conn, notices, now)


def change_notice(change: Change, change_id: int, now: datetime, base_url: str | None = None) -> NewNotice | None:
    """The notice a recorded change calls for (an `edited` change calls for none)."""
    kind = {
        "added": "milestone.added",
        "removed": "milestone.removed",
        "rescheduled": "milestone.rescheduled",
        "status_changed": "milestone.status_changed",
    }.get(change.kind)
    if kind is None:
        return None
    m = change.milestone
    data = milestone_data(m, now)
    data["summary"] = change.describe()
    data["message"] = change_message(change.kind, m, change.before, now, base_url).as_dict()
    if change.kind == "rescheduled" and change.before is not None:
        before = change.before.schedule
        data["previous_window"] = {
            "text": before.describe(),
            "opens_at": utc_text(before.opens_at),
            "due_at": utc_text(before.due_at),
        }
        data["slip_days"] = change.slip_days
        data["direction"] = "later" if (change.slip_days or 0) >= 0 else "earlier"
    if change.kind == "status_changed" and change.before is not None:
        data["previous_status"] = change.before.status
    return NewNotice(kind, f"{kind}:{m.id}:{change_id}", now, data, subjects=(m.id,), tags=m.tags)


@dataclass(frozen=True)
class SyncResult:
    changes: list[Change]
    notices: list[str]
    dry_run: bool
    feeds: FeedsSync | None = None
    subscriptions: SubscriptionsSync | None = None


def sync_config(engine: Engine, path: Path, now: datetime, *, dry_run: bool = False) -> SyncResult:
    """Apply the milestones file alone (feeds and subscriptions left as they are)."""
    return apply_config(engine, ConfigBundle.milestones_only(path), now, dry_run=dry_run)


def apply_config(
    engine: Engine,
    bundle: ConfigBundle,
    now: datetime,
    *,
    dry_run: bool = False,
    alerts_config: AlertsConfig | None = None,
    base_url: str | None = None,
) -> SyncResult:
    """Diff `bundle` against the database and (unless `dry_run`) apply all of it in one transaction:
    milestones with their history and notices, feeds, config-declared subscriptions. ConfigError
    (dry run or not) when a file milestone reuses the id of an API milestone or a feed links a
    milestone that exists nowhere: nothing is applied."""
    with write_transaction(engine) as conn:
        # Every worker applies the same files: one at a time, so the second finds nothing to change.
        advisory_lock(conn, CONFIG_LOCK)
        stored = stored_milestones(conn)
        clashes = link_problems(bundle, api_ids(stored))
        if clashes:
            raise ConfigError(clashes)
        changes = diff(bundle.milestones, stored)
        if dry_run:
            return SyncResult(changes, [], dry_run)
        created: list[str] = []
        if changes:
            first_import = not any(s.origin == "config" for s in stored.values())
            created = apply(conn, changes, now, path=bundle.milestones_path, quiet=first_import, base_url=base_url)
        feeds = sync_feeds(conn, bundle.feeds, now) if bundle.feeds is not None else None
        subscriptions = None
        if bundle.subscriptions is not None:
            subscriptions = sync_config_subscriptions(conn, alerts_config or AlertsConfig(), bundle.subscriptions, now)
    for change in changes:
        log.info("config: %s", change.describe(), extra={"milestone": change.milestone.id})
    return SyncResult(changes, created, dry_run, feeds, subscriptions)


def summary(result: SyncResult) -> dict[str, Any]:
    return {
        "dry_run": result.dry_run,
        "changes": [
            {"kind": c.kind, "milestone": c.milestone.id, "description": c.describe(), "slip_days": c.slip_days}
            for c in result.changes
        ],
        "notices": result.notices,
    }
