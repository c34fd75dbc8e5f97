"""Matching rules: whole words, case and accents ignored, `*` as a word-suffix wildcard."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline.feeds.match import (
    REGEX_BUDGET,
    REGEX_TIMEOUT,
    MatchResult,
    MatchTimeout,
    Rule,
    TimedMatcher,
    compile_rule,
    fold,
    matches,
    term_problem,
)


@pytest.fixture(autouse=True)
def _compile_afresh() -> None:
    """Each test compiles its rules itself: a rule compiled (and cached) by an earlier test would
    hide from mutation testing which tests reach the compiling code."""
    compile_rule.cache_clear()


WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàçôûïñ", min_size=1, max_size=10)
ACCENTS = {"e": "éèêë", "a": "àâä", "c": "ç", "o": "ôö", "u": "ûüù", "i": "îï", "n": "ñ"}


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        (Rule(any=("centre de données",)), "UN CENTRE DE DONNEES GEANT", True),
        (Rule(any=("centre de donnees",)), "Un centre de données géant", True),
        (Rule(any=("centre*",)), "les centres du pays", True),
        (Rule(any=("centre*",)), "l'épicentre", False),
        (Rule(any=("centre* de donn*",)), "Centres de Données", True),
        (Rule(any=("data center",)), "a new data-center in Texas", True),
        (Rule(any=("anthropic",)), "Anthropic's plans", True),
        (Rule(any=("anthropic",)), "anthropics", False),
        (Rule(any=("anthropic",)), "philanthropic giving", False),
        (Rule(any=("ai",)), "AI chips", True),
        (Rule(any=("ai",)), "Hawaii", False),
        (Rule(all=("anthropic", "iowa")), "Anthropic in Iowa", True),
        (Rule(all=("anthropic", "iowa")), "Anthropic in Texas", False),
        (Rule(any=("anthropic",), none=("crypto*",)), "Anthropic cryptocurrency", False),
        (Rule(regex=r"\$\d+ ?billion"), "a $50 billion plan", True),
        (Rule(regex=r"\$\d+ ?billion"), "fifty billion", False),
        (Rule(any=("straße",)), "STRASSE", True),
        (Rule(), "anything at all", True),
        (None, "", True),
    ],
)
def test_examples(rule: Rule | None, text: str, expected: bool) -> None:
    assert (matches(rule, text) is not None) is expected


def test_the_result_names_the_terms_that_matched() -> None:
    hit = matches(
        Rule(any=("microsoft", "anthropic"), all=("data cent*",), regex="[0-9]+"), "Anthropic: 50 data centres"
    )
    assert hit is not None
    assert (hit.any, hit.all, hit.regex) == ("anthropic", ("data cent*",), "50")
    assert hit.describe() == "any: anthropic; all: data cent*; regex: 50"
    assert matches(None, "x").describe() == "every item"  # type: ignore[union-attr]


def test_rules_are_compiled_once() -> None:
    rule = Rule(any=("x",))
    assert compile_rule(rule) is compile_rule(Rule(any=("x",)))


@pytest.mark.parametrize(
    ("term", "problem"),
    [
        ("centre*", None),
        ("data centre*", None),
        ("*", "lone"),
        ("ce*ntre", "end of a word"),
        ("centr*e", "end of a word"),
        ("!!", "no letters"),
    ],
)
def test_term_problems(term: str, problem: str | None) -> None:
    found = term_problem(term)
    assert (found is None) if problem is None else (problem in (found or ""))


def _accented(word: str, data: st.DataObject) -> str:
    return "".join(data.draw(st.sampled_from(c + ACCENTS.get(c, ""))) for c in fold(word))


@given(words=st.lists(WORD, min_size=1, max_size=4), data=st.data())
def test_case_and_accents_never_matter(words: list[str], data: st.DataObject) -> None:
    phrase = " ".join(words)
    variant = " ".join(_accented(w, data) for w in words)
    variant = "".join(c.upper() if data.draw(st.booleans()) else c for c in variant)
    text = f"before, {variant}; after"
    assert matches(Rule(any=(phrase,)), text) is not None
    assert matches(Rule(any=(variant,)), f"x {phrase} y") is not None
    assert matches(Rule(none=(phrase,)), text) is None


@given(prefix=WORD, suffix=st.text(alphabet="abcxyz0123", max_size=6), before=WORD)
def test_wildcard_is_a_word_suffix(prefix: str, suffix: str, before: str) -> None:
    rule = Rule(any=(prefix + "*",))
    assert matches(rule, f"0 {prefix.upper()}{suffix}, 9") is not None
    if not fold(before + prefix).startswith(fold(prefix)):
        assert matches(rule, f"0 {before}{prefix}{suffix}, 9") is None


@given(word=WORD, glue=WORD)
def test_words_match_whole(word: str, glue: str) -> None:
    rule = Rule(any=(word,))
    assert matches(rule, f"({word.upper()})") is not None
    assert matches(rule, f"{word}{glue}") is None
    assert matches(rule, f"{glue}{word}") is None


def _reference(rule: Rule, text: str) -> str | bool | None:
    """The rule's `any` verdict by the first implementation: one regex alternation over the words
    (the term found first wins, the first listed of those found at the same place)."""
    folded = " ".join(re.findall(r"\w+", fold(text)))
    parts = []
    for i, term in enumerate(rule.any):
        tokens = [
            re.escape(t[:-1]) + r"\w*" if t.endswith("*") else re.escape(t) for t in re.findall(r"[\w*]+", fold(term))
        ]
        parts.append(f"(?P<t{i}>(?<!\\w)" + " ".join(tokens) + r"(?!\w))")
    hit = re.search("|".join(parts), folded)
    if hit is None or hit.lastgroup is None:
        return False
    return rule.any[int(hit.lastgroup[1:])]


TOKEN = st.sampled_from(["data", "centre", "centres", "de", "données", "donnees", "ai", "a", "é", "x_y", "42"])


@given(
    st.lists(st.lists(st.tuples(TOKEN, st.booleans()), min_size=1, max_size=3), min_size=1, max_size=4),
    st.lists(TOKEN | st.sampled_from([" ", "-", ", ", "\n", "'", "DATA", "Centre"]), max_size=25),
)
def test_terms_are_found_as_the_word_regex_finds_them(terms: list[list[tuple[str, bool]]], parts: list[str]) -> None:
    """Terms are found as substrings of the words where they can be (a fast path); the answer, and
    which `any` term is reported, are those of the regex over the words it replaced."""
    written = tuple(" ".join(token + ("*" if wild else "") for token, wild in term) for term in terms)
    rule = Rule(any=written)
    text = " ".join(parts)
    found = matches(rule, text)
    assert (found.any if found else False) == _reference(rule, text)


def test_a_rule_round_trips_through_its_dict() -> None:
    rule = Rule(any=("anthropic", "claude"), all=("data cent*",), none=("crypto",), regex=r"\d+ MW")
    written = rule.as_dict()
    assert written == {"any": ["anthropic", "claude"], "all": ["data cent*"], "none": ["crypto"], "regex": r"\d+ MW"}
    assert Rule.from_dict(written) == rule
    assert Rule.from_dict(Rule().as_dict()) == Rule()
    assert Rule().as_dict() == {"any": [], "all": [], "none": [], "regex": None}


def test_a_rule_from_a_partial_or_missing_dict() -> None:
    assert Rule.from_dict(None) is None
    assert Rule.from_dict({}) == Rule()
    assert Rule.from_dict({"any": None, "all": ["x"], "none": [], "regex": None}) == Rule(all=("x",))
    loaded = Rule.from_dict({"none": ["spam"], "regex": "a+"})
    assert loaded is not None and (loaded.any, loaded.all, loaded.none, loaded.regex) == ((), (), ("spam",), "a+")
    assert isinstance(loaded.none, tuple)


def test_a_match_result_as_stored_evidence() -> None:
    hit = matches(Rule(any=("anthropic",), all=("iowa",), regex="[0-9]+ MW"), "Anthropic: 300 MW in Iowa")
    assert hit is not None
    assert hit.as_dict() == {"any": "anthropic", "all": ["iowa"], "regex": "300 MW"}
    assert MatchResult().as_dict() == {"any": None, "all": [], "regex": None}
    assert MatchResult(regex="").describe() == "regex: "
    assert MatchResult(all=("a", "b")).describe() == "all: a, b"


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        # Wildcards inside a phrase: each starred word is a prefix, the others whole words.
        (Rule(any=("centre* donn*",)), "Centres Données", True),
        (Rule(any=("centre* donn*",)), "centrale données", False),
        (Rule(any=("centre* donn*",)), "cars données", False),
        (Rule(any=("data centre* texas",)), "new data centres, Texas", True),
        (Rule(any=("data centre* texas",)), "data centres texan", False),
        (Rule(any=("centre* de donn*",)), "centres des données", False),
        (Rule(any=("centre* de donn*",)), "centres de données", True),
        (Rule(any=("centre* de",)), "centres de", True),
        (Rule(any=("centre* de",)), "centres des", False),
        # A phrase without wildcards is its words in a row, whatever the punctuation between them.
        (Rule(any=("data centre",)), "Data, Centre!", True),
        (Rule(any=("data centre",)), "data centres", False),
        (Rule(any=("data centre",)), "big data centre", True),
        # `none` rules an item out wherever its term is, the first word included.
        (Rule(none=("crypto",)), "Crypto news", False),
        (Rule(none=("crypto*",)), "cryptocurrency", False),
        (Rule(none=("crypto",)), "news", True),
        (Rule(any=("news",), none=("crypto news",)), "crypto news", False),
        (Rule(any=("news",), none=("crypto* news",)), "cryptos news", False),
        # `all` needs every term, `any` one of them, the regex its hit: all together.
        (Rule(any=("a", "b"), all=("c", "d"), none=("e",), regex="z+"), "b c d zz", True),
        (Rule(any=("a", "b"), all=("c", "d"), none=("e",), regex="z+"), "b c d", False),
        (Rule(any=("a", "b"), all=("c", "d"), none=("e",), regex="z+"), "b c zz", False),
        (Rule(any=("a", "b"), all=("c", "d"), none=("e",), regex="z+"), "f c d zz", False),
        (Rule(any=("a", "b"), all=("c", "d"), none=("e",), regex="z+"), "e b c d zz", False),
    ],
)
def test_phrases_wildcards_and_combinations(rule: Rule, text: str, expected: bool) -> None:
    assert (matches(rule, text) is not None) is expected


@pytest.mark.parametrize(
    ("rule", "text", "result"),
    [
        (Rule(all=("iowa",)), "Anthropic in Iowa", MatchResult(any=None, all=("iowa",), regex=None)),
        (Rule(none=("crypto",)), "Anthropic", MatchResult(any=None, all=(), regex=None)),
        (Rule(regex="[0-9]+ mw"), "300 MW in Iowa", MatchResult(any=None, all=(), regex="300 MW")),
        (Rule(any=("iowa",), regex="x*"), "Iowa", MatchResult(any="iowa", all=(), regex="")),
        (Rule(regex="a+"), "b" + "A" * 300, MatchResult(regex="A" * 200)),  # evidence is cut at 200
        (Rule(regex="a+"), "b" + "a" * 200, MatchResult(regex="a" * 200)),
        # The `any` term reported is the one found first in the text ...
        (Rule(any=("zeta", "alpha")), "alpha beta zeta", MatchResult(any="alpha")),
        (Rule(any=("alpha", "beta")), "beta alpha beta", MatchResult(any="beta")),
        (Rule(any=("alpha", "centre* de donn*")), "centres de données alpha", MatchResult(any="centre* de donn*")),
        (Rule(any=("centre* de donn*", "alpha")), "alpha centres de données", MatchResult(any="alpha")),
        # ... and of terms starting at the same word, the first listed.
        (Rule(any=("data", "data centre")), "data centre", MatchResult(any="data")),
        (Rule(any=("data centre", "data")), "data centre", MatchResult(any="data centre")),
        (Rule(any=("centre* de donn*", "centres")), "centres de données", MatchResult(any="centre* de donn*")),
        (Rule(any=("centres", "centre* de donn*")), "centres de données", MatchResult(any="centres")),
        (Rule(any=("x", "centre* de donn*", "y")), "centres de données", MatchResult(any="centre* de donn*")),
    ],
)
def test_the_result_of_a_match_field_by_field(rule: Rule, text: str, result: MatchResult) -> None:
    assert matches(rule, text) == result


def test_a_term_without_letters_matches_only_an_item_without_words() -> None:
    """feeds.yaml refuses such terms (`term_problem`); a rule built without that check still
    compiles, and its empty term finds no words in an item that has some."""
    assert matches(Rule(any=("!!",)), "?!") == MatchResult(any="!!")
    assert matches(Rule(any=("!!",)), "some words") is None
    assert matches(Rule(none=("",)), "some words") == MatchResult()


TRAP_RULE = Rule(regex=r"(a|aa)+$")
"""A regex that backtracks badly: on TRAP it takes a good fraction of a second (so a search that
ignored its time limit would still end, and fail the test), on LONG_TRAP practically forever."""
TRAP = "a" * 26 + "!"
LONG_TRAP = "a" * 3000 + "!"


def _timeout_of(message: str) -> float:
    found = re.fullmatch(r"the regex '\(a\|aa\)\+\$' took more than ([0-9.e-]+)s on this item", message)
    assert found is not None, message
    return float(found.group(1))


def test_a_regex_search_that_takes_too_long_times_out() -> None:
    matcher = compile_rule(TRAP_RULE)
    with pytest.raises(MatchTimeout) as caught:
        matcher.match(TRAP, timeout=0.002)
    assert _timeout_of(str(caught.value)) == 0.002
    assert matcher.match("aa", timeout=0.002) == MatchResult(regex="aa")
    assert matcher.match("aa!") is None


def test_a_timed_matcher_gives_each_item_its_own_limit() -> None:
    matcher = TimedMatcher(TRAP_RULE, per_item=0.002, budget=5.0)
    for _ in range(3):
        with pytest.raises(MatchTimeout) as caught:
            matcher(TRAP)
        assert _timeout_of(str(caught.value)) == 0.002
    assert matcher("baa") == MatchResult(regex="aa")
    assert matcher("b") is None


def test_a_timed_matcher_gives_an_item_no_more_than_the_budget_left() -> None:
    matcher = TimedMatcher(TRAP_RULE, per_item=5.0, budget=0.003)
    with pytest.raises(MatchTimeout) as caught:
        matcher(TRAP)
    assert _timeout_of(str(caught.value)) == 0.003
    matcher = TimedMatcher(TRAP_RULE, per_item=5.0, budget=0.05)
    assert matcher("aa") == MatchResult(regex="aa")  # a quick search spends a little of the budget
    with pytest.raises(MatchTimeout) as caught:
        matcher(TRAP)
    assert 0 < _timeout_of(str(caught.value)) < 0.05  # what was left of it


SPENT = "the regex used up its time for this document; the rest of its items were not searched"


def test_once_the_budget_is_spent_no_item_is_searched() -> None:
    matcher = TimedMatcher(TRAP_RULE, per_item=0.002, budget=0.005)
    outcomes = []
    for _ in range(8):
        try:
            outcomes.append(matcher(TRAP))
        except MatchTimeout as exc:
            outcomes.append(str(exc))
    assert outcomes[0] != SPENT and SPENT in outcomes
    after = outcomes[outcomes.index(SPENT) :]
    assert after == [SPENT] * len(after)
    with pytest.raises(MatchTimeout, match="used up its time"):
        matcher("aa")  # even an item it would match at once
    with pytest.raises(MatchTimeout, match="used up its time"):
        TimedMatcher(Rule(regex="a"), budget=0)("a")


def test_a_timed_matcher_without_a_regex_has_no_limit() -> None:
    assert TimedMatcher(None, budget=0)("anything") == MatchResult()
    assert TimedMatcher(Rule(any=("x",)), budget=0)("x y") == MatchResult(any="x")
    assert TimedMatcher(Rule(any=("x",)), budget=0)("y") is None
    assert TimedMatcher(Rule(), per_item=0, budget=0)("y") == MatchResult()


def test_a_timed_matcher_by_default() -> None:
    """0.05 s per item, 0.5 s per document: one slow item leaves time for the next."""
    assert (REGEX_TIMEOUT, REGEX_BUDGET) == (0.05, 0.5)
    matcher = TimedMatcher(TRAP_RULE)
    with pytest.raises(MatchTimeout) as caught:
        matcher(LONG_TRAP)
    assert _timeout_of(str(caught.value)) == 0.05
    assert [matcher(text) for text in ("baa", "a!", "aaa")] == [MatchResult(regex="aa"), None, MatchResult(regex="aaa")]
