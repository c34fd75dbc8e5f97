"""Matching rules: whole words, case and accents ignored, `*` as a word-suffix wildcard."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline.feeds.match import MatchResult, Rule, compile_rule, fold, matches, term_problem

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
    [("centre*", None), ("data centre*", None), ("*", "lone"), ("ce*ntre", "end of a word"), ("!!", "no letters")],
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
