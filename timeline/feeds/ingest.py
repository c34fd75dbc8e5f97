"""Entries into the database, with their notices and evidence, in the caller's transaction.

SQLAlchemy Core in batches (the ORM is several times slower on this path): one select of the stored
identities, one multi-row insert of the new entries, one executemany of the edited ones, one update
of `last_seen_at` for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from alerts.notices import NewNotice, publish
from timeline.feeds.decide import classify
from timeline.feeds.match import MatchResult, compile_rule
from timeline.feeds.models import FeedEntry, FeedEvidence
from timeline.feeds.parse import ParsedEntry, plain
from timeline.feeds.store import FEEDS, FeedRow
from timeline.models import Milestone

ENTRIES: Table = FeedEntry.__table__  # type: ignore[attr-defined]
EVIDENCE: Table = FeedEvidence.__table__  # type: ignore[attr-defined]
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


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _stored(conn: Connection, feed_id: str, hashes: Sequence[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(hashes), _CHUNK):
        query = select(ENTRIES.c.identity_hash, ENTRIES.c.id, ENTRIES.c.content_hash).where(
            ENTRIES.c.feed_id == feed_id, ENTRIES.c.identity_hash.in_(hashes[start : start + _CHUNK])
        )
        found.update({h: (i, c) for h, i, c in conn.execute(query)})
    return found


def _values(entry: ParsedEntry) -> dict[str, Any]:
    return {
        "identity": entry.identity,
        "title": entry.title,
        "link": entry.link,
        "published_at": entry.published,
        "summary": entry.summary,
        "content_hash": entry.content_hash,
    }


def ingest(
    conn: Connection,
    feed: FeedRow,
    entries: Iterable[ParsedEntry],
    now: datetime,
    milestones: MilestoneIndex,
) -> IngestCounts:
    """Store a fetched document's entries; publish notices for matches that should notify.

    New entries notify once the feed's backlog is done (its first successful poll), or always with
    `notify_backlog`; edited ones (same identity, new content) only with `notify_updates`. Every
    match is recorded as evidence on the linked milestones, notified or not.
    """
    by_hash: dict[str, ParsedEntry] = {}
    for entry in entries:
        by_hash.setdefault(entry.identity_hash, entry)
    stored = _stored(conn, feed.id, list(by_hash))
    changes = classify(((h, e.content_hash) for h, e in by_hash.items()), {h: c for h, (_, c) in stored.items()})
    counts = IngestCounts(new=len(changes.new), updated=len(changes.edited))
    ids: dict[str, int] = {}
    if changes.new:
        rows = [
            {"feed_id": feed.id, "identity_hash": h, "first_seen_at": now, "last_seen_at": now, **_values(by_hash[h])}
            for h in changes.new
        ]
        for start in range(0, len(rows), _CHUNK):
            statement = (
                _insert(conn)(ENTRIES)
                .on_conflict_do_nothing(index_elements=["feed_id", "identity_hash"])
                .returning(ENTRIES.c.identity_hash, ENTRIES.c.id)
            )
            ids.update(dict(conn.execute(statement, rows[start : start + _CHUNK]).all()))
    if changes.edited:
        statement = (
            update(ENTRIES)
            .where(ENTRIES.c.id == bindparam("entry_id"))
            .values({k: bindparam(k) for k in ("title", "link", "published_at", "summary", "content_hash")})
            .values(last_seen_at=now, updated_at=now)
        )
        params = [
            {"entry_id": stored[h][0], **{k: v for k, v in _values(by_hash[h]).items() if k != "identity"}}
            for h in changes.edited
        ]
        conn.execute(statement, params)
        ids.update({h: stored[h][0] for h in changes.edited})
    if changes.unchanged:
        seen = [stored[h][0] for h in changes.unchanged]
        for start in range(0, len(seen), _CHUNK):
            conn.execute(update(ENTRIES).where(ENTRIES.c.id.in_(seen[start : start + _CHUNK])).values(last_seen_at=now))
    matcher = compile_rule(feed.rule)
    notices: list[NewNotice] = []
    evidence: list[dict[str, Any]] = []
    notify_new = feed.backlog_done or feed.notify_backlog
    for kind, hashes in (("new", changes.new), ("edited", changes.edited)):
        for h in hashes:
            if h not in ids:
                continue
            entry = by_hash[h]
            hit = matcher.match(entry.text)
            if hit is None:
                continue
            counts.matched += 1
            linked, tags = milestones.linked(conn, feed)
            evidence.extend(
                {"entry_id": ids[h], "milestone_id": mid, "feed_id": feed.id, "rule": _rule(hit), "matched_at": now}
                for mid in linked
            )
            if (kind == "new" and notify_new) or (kind == "edited" and feed.notify_updates):
                notices.append(_notice(feed, entry, hit, linked, tags, now, update=kind == "edited"))
    if evidence:
        statement = _insert(conn)(EVIDENCE).on_conflict_do_nothing(index_elements=["entry_id", "milestone_id"])
        for start in range(0, len(evidence), _CHUNK):
            conn.execute(statement, evidence[start : start + _CHUNK])
    counts.notices = publish(conn, notices, now)
    return counts


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
    return NewNotice(
        type="feed.item_matched",
        key=item_key(feed.id, entry.identity_hash, entry.content_hash if update else None),
        occurred_at=now,
        data=data,
        subjects=tuple(linked),
        tags=tuple(tags),
    )


@dataclass(frozen=True)
class Evidence:
    """A feed item linked to a milestone by a match."""

    milestone_id: str
    feed_id: str
    feed_name: str
    title: str | None
    link: str | None
    published: datetime | None
    summary: str | None
    rule: dict[str, Any]
    matched_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "milestone_id": self.milestone_id,
            "feed_id": self.feed_id,
            "feed_name": self.feed_name,
            "title": self.title,
            "link": self.link,
            "published": self.published.isoformat() if self.published else None,
            "summary": self.summary,
            "rule": self.rule,
            "matched_at": self.matched_at.isoformat(),
        }


def evidence_for(conn: Connection, milestone_ids: Sequence[str]) -> dict[str, list[Evidence]]:
    """The evidence on each of `milestone_ids`, newest first (every id is a key, maybe with [])."""
    found: dict[str, list[Evidence]] = {mid: [] for mid in milestone_ids}
    ids = list(found)
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(
                EVIDENCE.c.milestone_id,
                EVIDENCE.c.feed_id,
                FEEDS.c.name,
                ENTRIES.c.title,
                ENTRIES.c.link,
                ENTRIES.c.published_at,
                ENTRIES.c.summary,
                EVIDENCE.c.rule,
                EVIDENCE.c.matched_at,
            )
            .join(ENTRIES, ENTRIES.c.id == EVIDENCE.c.entry_id)
            .join(FEEDS, FEEDS.c.id == EVIDENCE.c.feed_id)
            .where(EVIDENCE.c.milestone_id.in_(ids[start : start + _CHUNK]))
            .order_by(EVIDENCE.c.matched_at.desc(), ENTRIES.c.published_at.desc(), EVIDENCE.c.id.desc())
        )
        for row in conn.execute(query):
            found[row[0]].append(Evidence(*row))
    return found
