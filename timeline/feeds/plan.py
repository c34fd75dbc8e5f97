"""What storing one fetched document will do, decided before any write: a pure function of the
feed, its parsed entries, the entries already stored and the rule (`plan_ingest`).

The plan says which entries to insert, which to update (edited, or stored by an older scheme of
identities and hashes, `timeline.feeds.items.SCHEME`), which were only seen again, which match the
feed's rule and which of those notify. Matching runs here, outside the write transaction, under the
rule's time limits (`timeline.feeds.match.TimedMatcher`); an item whose matching fails is stored
unmatched and counted with its reason. `timeline.feeds.ingest.apply_plan` writes the plan.

Entries stored by an older scheme are brought up to date quietly: a poll after an upgrade must not
announce stored items as new or edited. An item that the first scheme folded into another (it
repeated that item's guid with another link) is new but recorded quietly too: it was in the
document before the upgrade, as part of the backlog of an already notified item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from timeline.feeds.decide import classify
from timeline.feeds.items import SCHEME, ParsedEntry, Skipped
from timeline.feeds.match import MatchResult
from timeline.feeds.text import clean

Match = Callable[[str], MatchResult | None]


@dataclass(frozen=True)
class StoredEntry:
    """What a plan needs of an entry already stored."""

    id: int
    content_hash: str
    link: str | None
    scheme: int


@dataclass(frozen=True)
class Planned:
    """One entry to write. `row` is the stored entry it updates (None for an insert); `hit` why it
    matched (None: no match); `notify` whether the match is notified, and `update` whether as an
    update of an item already notified."""

    entry: ParsedEntry
    row: int | None = None
    hit: MatchResult | None = None
    notify: bool = False
    update: bool = False


@dataclass
class IngestPlan:
    inserts: list[Planned] = field(default_factory=list)
    updates: list[Planned] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)
    """Stored entries found again unchanged: their `last_seen_at` moves."""
    skipped: list[Skipped] = field(default_factory=list)
    edited: int = 0
    """Updates that are edits of the item (the others bring an older scheme's entry up to date)."""

    @property
    def matched(self) -> list[Planned]:
        return [p for p in (*self.inserts, *self.updates) if p.hit is not None]


@dataclass(frozen=True)
class FeedFlags:
    """What a plan needs of the feed: whether new and edited matches notify."""

    notify_new: bool
    notify_updates: bool


def _matched(match: Match, entry: ParsedEntry, position: int, skipped: list[Skipped]) -> MatchResult | None:
    try:
        return match(entry.text)
    except Exception as exc:  # a rule that fails on one item leaves it unmatched, not the document unstored
        skipped.append(Skipped(position, clean(f"not matched: {exc}")[:300]))
        return None


def _adopt(entry: ParsedEntry, stored: Mapping[str, StoredEntry], taken: set[int]) -> tuple[StoredEntry | None, bool]:
    """(the older-scheme row this new entry is, whether the entry is quiet): its alias names a row
    stored by the first scheme that is the same item (a hash identity, or a guid with the same link);
    a row of the first scheme with the guid but another link means a folded item, new but quiet."""
    if entry.alias_hash is None:
        return None, False
    row = stored.get(entry.alias_hash)
    if row is None or row.scheme >= SCHEME or row.id in taken:
        return None, False
    if entry.identity.startswith("hash:") or row.link == entry.link:
        taken.add(row.id)
        return row, True
    return None, True


def plan_ingest(
    flags: FeedFlags, entries: Sequence[ParsedEntry], stored: Mapping[str, StoredEntry], match: Match
) -> IngestPlan:
    """The plan for `entries` (in document order) against `stored` (identity hash or alias hash ->
    the stored entry). The first occurrence of an identity in a document wins."""
    by_hash: dict[str, tuple[int, ParsedEntry]] = {}
    for position, entry in enumerate(entries):
        by_hash.setdefault(entry.identity_hash, (position, entry))
    changes = classify(
        ((h, e.content_hash) for h, (_, e) in by_hash.items()),
        {h: row.content_hash for h, row in stored.items()},
    )
    plan = IngestPlan()
    taken = {stored[h].id for h in (*changes.edited, *changes.unchanged)}
    for h in changes.new:
        position, entry = by_hash[h]
        row, quiet = _adopt(entry, stored, taken)
        hit = _matched(match, entry, position, plan.skipped)
        if row is not None:
            plan.updates.append(Planned(entry, row.id, hit))
        else:
            plan.inserts.append(Planned(entry, None, hit, notify=hit is not None and flags.notify_new and not quiet))
    for h in changes.edited:
        position, entry = by_hash[h]
        row = stored[h]
        hit = _matched(match, entry, position, plan.skipped)
        if row.scheme < SCHEME:  # the older scheme hashed differently: not an edit
            plan.updates.append(Planned(entry, row.id, hit))
            continue
        plan.edited += 1
        plan.updates.append(Planned(entry, row.id, hit, notify=hit is not None and flags.notify_updates, update=True))
    for h in changes.unchanged:
        row = stored[h]
        if row.scheme >= SCHEME:
            plan.seen.append(row.id)
        else:
            position, entry = by_hash[h]
            plan.updates.append(Planned(entry, row.id, _matched(match, entry, position, plan.skipped)))
    return plan
