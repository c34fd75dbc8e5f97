"""The ingest plan, on plain values: what is inserted, updated, matched and notified."""

from __future__ import annotations

from tests.feeds.builders import Item, rss
from timeline.feeds.items import SCHEME, ParsedEntry, sha1
from timeline.feeds.match import MatchResult, MatchTimeout, Rule, TimedMatcher
from timeline.feeds.parse import parse_document
from timeline.feeds.plan import FeedFlags, StoredEntry, plan_ingest

NEW_ONLY = FeedFlags(notify_new=True, notify_updates=False)
EVERYTHING = FeedFlags(notify_new=True, notify_updates=True)
BACKLOG = FeedFlags(notify_new=False, notify_updates=False)


def _entries(*items: Item) -> list[ParsedEntry]:
    return list(parse_document(rss(*items), {}, "http://example.com/feed.xml").entries)


def _match_all(text: str) -> MatchResult | None:
    return MatchResult()


def _stored(entry: ParsedEntry, row: int, scheme: int = SCHEME, content: str | None = None) -> StoredEntry:
    return StoredEntry(row, content or entry.content_hash, entry.link, scheme)


def test_new_edited_and_unchanged_entries() -> None:
    new, edited, same = _entries(Item("New", guid="n"), Item("Edited", guid="e"), Item("Same", guid="s"))
    stored = {edited.identity_hash: _stored(edited, 1, content="old"), same.identity_hash: _stored(same, 2)}
    plan = plan_ingest(EVERYTHING, [new, edited, same], stored, _match_all)
    assert [p.entry.identity for p in plan.inserts] == ["n"]
    assert [(p.row, p.update, p.notify) for p in plan.updates] == [(1, True, True)]
    assert plan.seen == [2] and plan.edited == 1
    assert [p.entry.identity for p in plan.matched] == ["n", "e"]


def test_the_backlog_and_edits_without_notify_updates_are_matched_but_not_notified() -> None:
    new, edited = _entries(Item("New", guid="n"), Item("Edited", guid="e"))
    stored = {edited.identity_hash: _stored(edited, 1, content="old")}
    for flags in (BACKLOG, NEW_ONLY):
        plan = plan_ingest(flags, [new, edited], stored, _match_all)
        assert [p.hit is not None for p in plan.matched] == [True, True]
        assert [p.notify for p in (*plan.inserts, *plan.updates)] == [flags.notify_new, False]


def test_an_entry_of_an_older_scheme_is_brought_up_to_date_quietly() -> None:
    """Same identity, a content hash made by the older rules: updated, matched, never notified."""
    (entry,) = _entries(Item("Stored before the upgrade", guid="g"))
    stored = {entry.identity_hash: _stored(entry, 7, scheme=1, content="hashed the old way")}
    plan = plan_ingest(EVERYTHING, [entry], stored, _match_all)
    assert [(p.row, p.update, p.notify, p.hit is not None) for p in plan.updates] == [(7, False, False, True)]
    assert plan.edited == 0 and plan.inserts == [] and plan.seen == []
    unchanged = {entry.identity_hash: _stored(entry, 7, scheme=1)}
    assert [p.row for p in plan_ingest(EVERYTHING, [entry], unchanged, _match_all).updates] == [7]


def test_items_the_first_scheme_folded_into_one_guid() -> None:
    """The first scheme stored one row for guid `g` (the first link it saw). Now the document's two
    items are told apart: the one with the stored link takes that row over, the other is new but
    quiet (it was in the document before the upgrade); under the current scheme it would notify."""
    first, second = _entries(
        Item("Second story", guid="g", link="http://example.com/2"),
        Item("First story", guid="g", link="http://example.com/1"),
    )
    assert first.alias_hash == second.alias_hash == sha1("g")
    old_row = StoredEntry(3, "old", "http://example.com/1", 1)
    plan = plan_ingest(EVERYTHING, [first, second], {sha1("g"): old_row}, _match_all)
    assert [(p.entry.link, p.notify) for p in plan.inserts] == [("http://example.com/2", False)]
    assert [(p.entry.link, p.row, p.notify) for p in plan.updates] == [("http://example.com/1", 3, False)]
    current = StoredEntry(3, "x", "http://example.com/1", SCHEME)
    plan = plan_ingest(EVERYTHING, [first, second], {sha1("g"): current}, _match_all)
    assert [(p.entry.link, p.notify) for p in plan.inserts] == [
        ("http://example.com/2", True),
        ("http://example.com/1", True),
    ]


def test_an_entry_with_no_guid_and_no_link_is_found_by_its_older_hash() -> None:
    (entry,) = _entries(Item("Anonymous", summary="<p>Only text</p>"))
    assert entry.identity.startswith("hash:") and entry.alias_hash is not None
    plan = plan_ingest(NEW_ONLY, [entry], {entry.alias_hash: StoredEntry(9, "old", None, 1)}, _match_all)
    assert plan.inserts == [] and [(p.row, p.notify) for p in plan.updates] == [(9, False)]


def test_a_repeated_identity_counts_once_and_a_failing_match_is_skipped_not_fatal() -> None:
    one, again, other = _entries(Item("One", guid="1"), Item("One again", guid="1"), Item("Other", guid="2"))

    def explode(text: str) -> MatchResult | None:
        if "Other" in text:
            raise MatchTimeout("the regex took too long")
        return MatchResult(any="one")

    plan = plan_ingest(NEW_ONLY, [one, again, other], {}, explode)
    assert [p.entry.title for p in plan.inserts] == ["One", "Other"]
    assert [p.hit is not None for p in plan.inserts] == [True, False]
    assert [(s.position, s.reason) for s in plan.skipped] == [(2, "not matched: the regex took too long")]


def test_a_timed_matcher_stops_searching_once_its_budget_is_spent() -> None:
    matcher = TimedMatcher(Rule(regex=r"(a|aa)+$"), per_item=0.01, budget=0.02)
    trap = "a" * 3000 + "!"
    outcomes = []
    for _ in range(5):
        try:
            outcomes.append(matcher(trap))
        except MatchTimeout as exc:
            outcomes.append(str(exc))
    assert outcomes[-1] == "the regex used up its time for this document; the rest of its items were not searched"
    assert TimedMatcher(Rule(regex="b+")).__call__("abba") == MatchResult(regex="bb")
    assert TimedMatcher(None)("anything") == MatchResult()
