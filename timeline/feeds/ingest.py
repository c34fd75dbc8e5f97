"""Writing a document's entries, with their notices and evidence, in the caller's transaction.

The decisions are made before (`timeline.feeds.plan.plan_ingest`, outside the write transaction);
this module reads what a plan needs (`stored_entries`, `MilestoneIndex`) and writes a plan
(`apply_plan`) with SQLAlchemy Core in batches: one multi-row insert of the new entries, one
executemany of the updated ones, one update of `last_seen_at` for the rest, one insert of evidence.
`ingest` does all three in one connection (benchmarks and tests).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from alerts.notices import NewNotice, publish
from timeline.feeds.evidence import ENTRIES, EVIDENCE, Evidence, evidence_counts, evidence_for
from timeline.feeds.items import SCHEME, ParsedEntry
from timeline.feeds.match import MatchResult, TimedMatcher
from timeline.feeds.plan import FeedFlags, IngestPlan, Planned, StoredEntry, plan_ingest
from timeline.feeds.store import FeedRow
from timeline.feeds.text import plain
from timeline.models import Milestone
from timeline.proposals.record import MatchedItem, record_proposals
from timeline.wording import item_message

__all__ = [
    "ENTRIES",
    "EVIDENCE",
    "Evidence",
    "IngestCounts",
    "MilestoneIndex",
    "apply_plan",
    "evidence_counts",
    "evidence_for",
    "ingest",
    "item_key",
    "stored_entries",
]
MILESTONES: Table = Milestone.__table__  # type: ignore[attr-defined]
NOTICE_SUMMARY_CHARS = 500
_CHUNK = 500


class MilestoneIndex:
    """The active milestones' tags, read once per poll run, the first time a match needs them."""

    def __init__(self) -> None:
        self._tags: dict[str, tuple[str, ...]] | None = None

    def _load(self, conn: Connection) -> dict[str, tuple[str, ...]]:
        if self._tags is None:
            query = select(MILESTONES.c.id, MILESTONES.c.tags).where(MILESTONES.c.archived_at.is_(None))
            self._tags = {mid: tuple(tags or ()) for mid, tags in conn.execute(query)}
        return self._tags

    def linked(self, conn: Connection, feed: FeedRow) -> tuple[list[str], list[str]]:
        """(milestone ids, their tags plus the feed's): ids named by the feed, then those with a tag
        of the feed. An id that names no milestone is kept (it may be added later)."""
        known = self._load(conn)
        ids = list(feed.milestones)
        if feed.tags:
            wanted = set(feed.tags)
            ids.extend(mid for mid, tags in sorted(known.items()) if wanted.intersection(tags))
        ids = list(dict.fromkeys(ids))
        tags = dict.fromkeys([*feed.tags, *(t for mid in ids for t in known.get(mid, ()))])
        return ids, list(tags)


@dataclass
class IngestCounts:
    new: int = 0
    updated: int = 0
    matched: int = 0
    notices: list[str] = field(default_factory=list)
    skipped: int = 0


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def stored_entries(conn: Connection, feed_id: str, entries: Sequence[ParsedEntry]) -> dict[str, StoredEntry]:
    """The stored entries of `feed_id` that `entries` may be: by identity hash, and by alias hash."""
    hashes = list({h for e in entries for h in (e.identity_hash, e.alias_hash) if h is not None})
    found: dict[str, StoredEntry] = {}
    columns = (ENTRIES.c.identity_hash, ENTRIES.c.id, ENTRIES.c.content_hash, ENTRIES.c.link, ENTRIES.c.scheme)
    for start in range(0, len(hashes), _CHUNK):
        query = select(*columns).where(
            ENTRIES.c.feed_id == feed_id, ENTRIES.c.identity_hash.in_(hashes[start : start + _CHUNK])
        )
        found.update({h: StoredEntry(i, c, link, scheme) for h, i, c, link, scheme in conn.execute(query)})
    return found


def _values(entry: ParsedEntry) -> dict[str, Any]:
    return {
        "identity": entry.identity,
        "identity_hash": entry.identity_hash,
        "title": entry.title,
        "link": entry.link,
        "published_at": entry.published,
        "summary": entry.summary,
        "content_hash": entry.content_hash,
        "scheme": SCHEME,
    }


_UPDATED = ("identity", "identity_hash", "title", "link", "published_at", "summary", "content_hash", "scheme")


def _write_entries(conn: Connection, feed: FeedRow, plan: IngestPlan, now: datetime) -> tuple[dict[str, int], int]:
    """Insert, update and touch what `plan` says: (the ids of the entries written by identity hash,
    how many were inserted)."""
    ids: dict[str, int] = {}
    rows = [{"feed_id": feed.id, "first_seen_at": now, "last_seen_at": now, **_values(p.entry)} for p in plan.inserts]
    for start in range(0, len(rows), _CHUNK):
        statement = (
            _insert(conn)(ENTRIES)
            .on_conflict_do_nothing(index_elements=["feed_id", "identity_hash"])
            .returning(ENTRIES.c.identity_hash, ENTRIES.c.id)
        )
        ids.update(dict(conn.execute(statement, rows[start : start + _CHUNK]).all()))
    inserted = len(ids)
    for edits in (True, False):
        planned = [p for p in plan.updates if p.update is edits]
        if not planned:
            continue
        statement = (
            update(ENTRIES)
            .where(ENTRIES.c.id == bindparam("entry_id"))
            .values({k: bindparam(k) for k in _UPDATED})
            .values(last_seen_at=now, **({"updated_at": now} if edits else {}))
        )
        conn.execute(statement, [{"entry_id": p.row, **_values(p.entry)} for p in planned])
        ids.update({p.entry.identity_hash: p.row for p in planned if p.row is not None})
    for start in range(0, len(plan.seen), _CHUNK):
        chunk = plan.seen[start : start + _CHUNK]
        conn.execute(update(ENTRIES).where(ENTRIES.c.id.in_(chunk)).values(last_seen_at=now))
    return ids, inserted


def apply_plan(
    conn: Connection, feed: FeedRow, plan: IngestPlan, now: datetime, milestones: MilestoneIndex
) -> IngestCounts:
    """Write `plan`: the entries, the evidence of every match on the linked milestones, the
    proposals of new dates the matches state (`timeline.proposals.record`), and the notices of the
    matches that notify."""
    ids, inserted = _write_entries(conn, feed, plan, now)
    matched: list[Planned] = [p for p in plan.matched if p.entry.identity_hash in ids]
    notices: list[NewNotice] = []
    if matched:
        linked, tags = milestones.linked(conn, feed)
        evidence = [
            {
                "entry_id": ids[p.entry.identity_hash],
                "milestone_id": mid,
                "feed_id": feed.id,
                "rule": _rule(p.hit),
                "matched_at": now,
            }
            for p in matched
            if p.hit is not None
            for mid in linked
        ]
        statement = _insert(conn)(EVIDENCE).on_conflict_do_nothing(index_elements=["entry_id", "milestone_id"])
        for start in range(0, len(evidence), _CHUNK):
            conn.execute(statement, evidence[start : start + _CHUNK])
        notices = [
            _notice(feed, p.entry, p.hit, linked, tags, now, update=p.update)
            for p in matched
            if p.notify and p.hit is not None
        ]
        items = [MatchedItem(ids[p.entry.identity_hash], p.entry, p.notify) for p in matched if p.hit is not None]
        notices.extend(record_proposals(conn, feed, items, linked, now))
    return IngestCounts(
        new=inserted,
        updated=plan.edited,
        matched=len(matched),
        notices=publish(conn, notices, now),
        skipped=len(plan.skipped),
    )


def flags(feed: FeedRow) -> FeedFlags:
    """New entries notify once the feed's backlog is done (its first successful poll), or always
    with `notify_backlog`; edited ones only with `notify_updates`."""
    return FeedFlags(notify_new=feed.backlog_done or feed.notify_backlog, notify_updates=feed.notify_updates)


def ingest(
    conn: Connection,
    feed: FeedRow,
    entries: Iterable[ParsedEntry],
    now: datetime,
    milestones: MilestoneIndex,
) -> IngestCounts:
    """Read, plan and write in one go: store a fetched document's entries, publish the notices of
    matches that should notify, and record every match as evidence, notified or not."""
    found = list(entries)
    plan = plan_ingest(flags(feed), found, stored_entries(conn, feed.id, found), TimedMatcher(feed.rule))
    return apply_plan(conn, feed, plan, now, milestones)


def _rule(hit: MatchResult) -> dict[str, Any]:
    return {**hit.as_dict(), "text": hit.describe()}


def item_key(feed_id: str, identity_hash: str, content_hash: str | None = None) -> str:
    """`feed.item_matched:<feed>:<sha1(identity)>`, plus the content hash for an update."""
    key = f"feed.item_matched:{feed_id}:{identity_hash}"
    return f"{key}:{content_hash}" if content_hash else key


def _notice(
    feed: FeedRow,
    entry: ParsedEntry,
    hit: MatchResult,
    linked: list[str],
    tags: list[str],
    now: datetime,
    *,
    update: bool,
) -> NewNotice:
    summary = plain(entry.summary or "")
    if len(summary) > NOTICE_SUMMARY_CHARS:
        summary = summary[: NOTICE_SUMMARY_CHARS - 1] + "…"
    data = {
        "title": entry.title or entry.link or "(untitled item)",
        "link": entry.link,
        "published": entry.published.isoformat() if entry.published else None,
        "summary": summary or None,
        "feed": {"id": feed.id, "name": feed.name, "url": feed.url},
        "rule": _rule(hit),
        "milestones": linked,
        "update": update,
    }
    data["message"] = item_message(
        title=entry.title,
        link=entry.link,
        summary=summary,
        feed_name=feed.name,
        published=entry.published,
        terms=[term for term in (hit.any, *hit.all, hit.regex) if term],
        milestones=linked,
        update=update,
    ).as_dict()
    return NewNotice(
        type="feed.item_matched",
        key=item_key(feed.id, entry.identity_hash, entry.content_hash if update else None),
        occurred_at=now,
        data=data,
        subjects=tuple(linked),
        tags=tuple(tags),
    )
