"""Matching feed items against a feed's rule: pure functions, compiled once per rule.

A rule has `any`, `all` and `none` lists of words or phrases and an optional `regex`:
- terms match whole words, ignoring case and accents (`centre de données` matches
  `CENTRE DE DONNEES`); punctuation between words does not matter (`data-center` = `data center`);
- `*` ends a word as a suffix wildcard (`centre*` matches `centres`, not `epicentre`);
- `regex` is a Python regular expression searched case-insensitively in the item's plain text;
- an item matches when at least one `any` term does (or `any` is empty), every `all` term does, no
  `none` term does, and the regex finds something. No rule at all matches every item.

The regex comes from the user's feeds.yaml and runs on text from anyone: it is run by the `regex`
module (the syntax of Python's `re`, with a time limit per search), so a pattern that backtracks
badly on some item costs at most that limit (`MatchTimeout`), and `TimedMatcher` bounds what the
regex may spend on one whole document. Terms are escaped words: they cannot backtrack.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import regex

from timeline.config.match_rules import TERM_TOKEN, Rule, term_problem
from timeline.words import fold, words

__all__ = [
    "MatchResult",
    "MatchTimeout",
    "Matcher",
    "Rule",
    "TimedMatcher",
    "compile_rule",
    "fold",
    "matches",
    "term_problem",
    "words",
]

REGEX_TIMEOUT = 0.05
"""Seconds one search of a rule's regex may take on one item."""
REGEX_BUDGET = 0.5
"""Seconds a rule's regex may take over one document (`TimedMatcher`)."""


@dataclass(frozen=True)
class MatchResult:
    """Why an item matched: the `any` term found, the `all` terms, the regex's hit."""

    any: str | None = None
    all: tuple[str, ...] = ()
    regex: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"any": self.any, "all": list(self.all), "regex": self.regex}

    def describe(self) -> str:
        parts = []
        if self.any:
            parts.append(f"any: {self.any}")
        if self.all:
            parts.append("all: " + ", ".join(self.all))
        if self.regex is not None:
            parts.append(f"regex: {self.regex}")
        return "; ".join(parts) or "every item"


def _term_pattern(term: str) -> str:
    parts = []
    for token in TERM_TOKEN.findall(fold(term)):
        parts.append(re.escape(token[:-1]) + r"\w*" if token.endswith("*") else re.escape(token))
    return r"(?<!\w)" + " ".join(parts) + r"(?!\w)"


@dataclass(frozen=True)
class _Term:
    """One term, found in the words of a text (single spaces between them, see `words`) padded
    with a space at each end. A term whose only wildcard (if any) ends it is a plain substring:
    ` data centre ` (` centre` for `centre*`), found in C, with no regex; others are a pattern."""

    needle: str | None
    pattern: re.Pattern[str] | None

    def find(self, padded: str) -> int:
        """Where the term starts in the words (the index of its leading space in `padded`), or -1."""
        if self.needle is not None:
            return padded.find(self.needle)
        assert self.pattern is not None
        hit = self.pattern.search(padded)
        return -1 if hit is None else hit.start() - 1


def _term(term: str) -> _Term:
    tokens = TERM_TOKEN.findall(fold(term))
    if all("*" not in token for token in tokens[:-1]):
        last = tokens[-1] if tokens else ""
        body = " ".join([*tokens[:-1], last.rstrip("*")])
        return _Term(" " + body + ("" if last.endswith("*") else " "), None)
    return _Term(None, re.compile(_term_pattern(term)))


def _first(terms: tuple[_Term, ...], padded: str) -> int | None:
    """The index of the term found first in `padded` (the earliest start; the first listed of those
    starting together), or None."""
    best: tuple[int, int] | None = None
    for index, term in enumerate(terms):
        at = term.find(padded)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, index)
    return None if best is None else best[1]


class MatchTimeout(TimeoutError):
    """The rule's regex ran out of time on an item: the item is not matched."""


@dataclass(frozen=True)
class Matcher:
    """A compiled rule; build it with `compile_rule` (cached)."""

    rule: Rule | None
    _any: tuple[_Term, ...]
    _all: tuple[_Term, ...]
    _none: tuple[_Term, ...]
    _regex: Any
    """A `regex` pattern (the module has no type hints)."""

    def match(self, text: str, timeout: float | None = None) -> MatchResult | None:
        """The reason `text` (an item's title and plain-text summary) matches, or None. With a
        `timeout` (seconds), a regex search that takes longer raises MatchTimeout."""
        if self.rule is None:
            return MatchResult()
        padded = " " + words(text) + " "
        found_any = None
        if self._any:
            first = _first(self._any, padded)
            if first is None:
                return None
            found_any = self.rule.any[first]
        if not all(term.find(padded) >= 0 for term in self._all):
            return None
        if any(term.find(padded) >= 0 for term in self._none):
            return None
        found_regex = None
        if self._regex is not None:
            try:
                hit_regex = self._regex.search(text, timeout=timeout)
            except TimeoutError:
                raise MatchTimeout(f"the regex {self.rule.regex!r} took more than {timeout}s on this item") from None
            if hit_regex is None:
                return None
            found_regex = hit_regex.group(0)[:200]
        return MatchResult(any=found_any, all=self.rule.all, regex=found_regex)


@lru_cache(maxsize=4096)
def compile_rule(rule: Rule | None) -> Matcher:
    """Compile `rule` once (validated terms and regex are assumed: see `term_problem`)."""
    if rule is None:
        return Matcher(None, (), (), (), None)
    return Matcher(
        rule,
        tuple(_term(t) for t in rule.any),
        tuple(_term(t) for t in rule.all),
        tuple(_term(t) for t in rule.none),
        regex.compile(rule.regex, regex.IGNORECASE | regex.VERSION0) if rule.regex else None,
    )


def matches(rule: Rule | None, text: str) -> MatchResult | None:
    """`compile_rule(rule).match(text)`."""
    return compile_rule(rule).match(text)


class TimedMatcher:
    """`compile_rule(rule).match` for the items of one document: each regex search gets at most
    `per_item` seconds, and all of them together `budget`; once it is spent, the items left are not
    searched (MatchTimeout at once). Items the terms already rule out cost the regex nothing."""

    def __init__(self, rule: Rule | None, *, per_item: float = REGEX_TIMEOUT, budget: float = REGEX_BUDGET) -> None:
        self._matcher = compile_rule(rule)
        self._per_item = per_item
        self._left = budget

    def __call__(self, text: str) -> MatchResult | None:
        if self._matcher.rule is None or self._matcher.rule.regex is None:
            return self._matcher.match(text)
        if self._left <= 0:
            raise MatchTimeout("the regex used up its time for this document; the rest of its items were not searched")
        started = time.perf_counter()
        try:
            return self._matcher.match(text, timeout=min(self._per_item, self._left))
        finally:
            self._left -= time.perf_counter() - started
