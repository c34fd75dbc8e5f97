"""The words of dates, one module per language, and how they combine.

A `Vocabulary` lists what a language writes for months, seasons, quarters and halves, parts of a
period (early, mid, late), relative words (next, this, last), the connectors of ranges and deadlines,
the words that say a date is when something starts or ends, and the nouns and units that make a
number a count. Everything is written as a reader would write it; `compile_vocabulary` folds it
(lower case, no accents) and splits it into tokens once, as the grammar reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import Enum
from functools import cache
from typing import Any, Generic, TypeVar

from timeline.evidence.text import Token, fold, phrase_tokens

V = TypeVar("V")


class Part(Enum):
    EARLY = "early"
    MID = "mid"
    LATE = "late"
    REST = "rest"  # "later this year": from the publication day to the end of the period


Words = tuple[str, ...]


@dataclass(frozen=True)
class Vocabulary:
    """What one language writes (see the module docstring); every field is plain text."""

    code: str
    months: Mapping[str, int]
    month_abbreviations: Mapping[str, int]  # read only beside a day or a year ("sept. 2027")
    seasons: Mapping[str, int]  # 1 spring, 2 summer, 3 autumn, 4 winter
    ordinals: Mapping[str, int]  # 1-4, as written before "quarter" or "half"
    quarter_words: Words
    half_words: Words
    half_words_needing_year: Words  # "half", "mitad": too common alone to read as a half-year
    quarter_letters: Words  # Q3, T3
    half_letters: Words  # H2, S2
    period_links: Words  # between a period and its year: "of", "de", "des Jahres"
    year_words: Words  # "l'année 2027", "im Jahr 2027": may precede a year
    this_year_words: Words  # the year of publication after a part: "fin d'année", "end of the year"
    year_units: Words
    month_units: Words
    quarter_units: Words
    half_units: Words
    next_before: Words
    next_after: Words
    this_before: Words
    last_before: Words
    last_after: Words
    articles: Words  # kept in the phrase before a relative word: "l'an prochain"
    parts: Mapping[str, Part]
    part_links: Words
    until: Words  # deadline connectors: the date is the end
    since: Words  # start connectors
    before: Words
    range_pairs: tuple[tuple[str, str], ...]  # (opener, middle): "from X to Y"
    range_middles: Words  # middles needing no opener: "2025-2027", "2025 bis 2027"
    month_context: Words  # words after which a month alone is a date: "en mars", "in March"
    decade_before: Words  # "les années 2030", "la década de 2030"
    decade_suffixes: Words  # "2030s", "2030er"
    day_suffixes: Words  # "1er", "1st", "15."
    day_links: Words  # "15 de septiembre", "the 15th of September"
    capitalised_months: bool  # English and German write month names with a capital
    day_first: bool  # 15/09/2027 (False: the month first when it could be either)
    move_verbs: Words  # stems: "pushed from X to Y" names two dates, not a range
    negations: Words
    start_cues: Words  # stems of words saying a date is when something begins
    end_cues: Words  # ... when it is finished, delivered, opened
    future_cues: Words  # stems or words: the sentence speaks of what is to come
    count_nouns: Words  # a number followed by one of these is a count, not a year
    model_words: Words  # a number after one of these is a name: "Windows 11", "page 2027"
    stop_words: Words  # frequent words, for language detection
    extra_known: Words = field(default=())  # other words that may stand capitalised before a year


class PhraseMap(Generic[V]):
    """Phrases of folded tokens, each with a value, indexed by their first token: `match` finds the
    longest phrase starting at a token in time independent of how many phrases there are."""

    def __init__(self, items: Iterable[tuple[str, V]]) -> None:
        index: dict[str, list[tuple[tuple[str, ...], V]]] = {}
        for phrase, value in items:
            tokens = phrase_tokens(phrase)
            if tokens and all(tokens != known for known, _ in index.get(tokens[0], [])):
                index.setdefault(tokens[0], []).append((tokens, value))
        for group in index.values():
            group.sort(key=lambda item: -len(item[0]))
        self._index = index
        self._words = frozenset(token for group in index.values() for phrase, _ in group for token in phrase)

    def match(self, tokens: Sequence[Token], i: int) -> tuple[int, V] | None:
        """(index after the phrase, its value) for the longest phrase at `tokens[i]`, or None."""
        if i >= len(tokens):
            return None
        for phrase, value in self._index.get(tokens[i].text, ()):
            n = len(phrase)
            if i + n <= len(tokens) and all(tokens[i + k].text == phrase[k] for k in range(n)):
                return i + n, value
        return None

    def ends_at(self, tokens: Sequence[Token], j: int) -> bool:
        """True when one of the phrases ends just before `tokens[j]`."""
        for group in self._index.values():
            for phrase, _ in group:
                n = len(phrase)
                if n <= j and all(tokens[j - n + k].text == phrase[k] for k in range(n)):
                    return True
        return False

    def words(self) -> frozenset[str]:
        return self._words

    def first_words(self) -> frozenset[str]:
        return frozenset(self._index)


class PhraseSet(PhraseMap[None]):
    def __init__(self, phrases: Iterable[str]) -> None:
        super().__init__((p, None) for p in phrases)

    def at(self, tokens: Sequence[Token], i: int) -> int | None:
        """The index after the longest phrase at `tokens[i]`, or None."""
        found = self.match(tokens, i)
        return found[0] if found else None


@dataclass(frozen=True)
class Compiled:
    """A vocabulary folded and indexed, as the grammar reads it."""

    code: str
    months: PhraseMap[int]
    month_abbreviations: PhraseMap[int]
    seasons: PhraseMap[int]
    ordinals: PhraseMap[int]
    parts: PhraseMap[Part]
    phrases: dict[str, PhraseSet]  # every Words field
    range_pairs: tuple[tuple[PhraseSet, PhraseSet], ...]
    cues: dict[str, re.Pattern[str]]  # the stem lists as patterns over folded (or lower-cased) text
    words: dict[str, frozenset[str]]  # single-word sets, folded
    known: frozenset[str]  # every folded word of the vocabulary: may stand capitalised before a year
    triggers: frozenset[str]  # the words a date phrase can begin with
    capitalised_months: bool
    day_first: bool

    def at(self, name: str, tokens: Sequence[Token], i: int) -> int | None:
        return self.phrases[name].at(tokens, i)


_CUE_FIELDS = ("move_verbs", "start_cues", "end_cues", "future_cues", "negations")
_WORD_FIELDS = ("count_nouns", "model_words", "stop_words")


def _cue_pattern(cues: Iterable[str]) -> re.Pattern[str]:
    """Cues as one pattern: "x " a whole word, "-x" a word ending, else a word beginning (a stem)."""
    alternatives = []
    for cue in cues:
        if cue.startswith("-"):
            alternatives.append(re.escape(cue[1:].strip()) + r"\b")
        elif cue.endswith(" "):
            alternatives.append(r"\b" + re.escape(cue.strip()) + r"\b")
        else:
            alternatives.append(r"\b" + re.escape(cue))
    return re.compile("|".join(alternatives) or r"(?!)")


def compile_vocabulary(vocabulary: Vocabulary) -> Compiled:
    phrases: dict[str, PhraseSet] = {}
    cues: dict[str, re.Pattern[str]] = {}
    words: dict[str, frozenset[str]] = {}
    for f in fields(Vocabulary):
        value = getattr(vocabulary, f.name)
        if f.name in _CUE_FIELDS:
            # The future is often told by an accented ending ("-rá"): those cues read lower-cased text.
            cues[f.name] = _cue_pattern(v.lower() if f.name == "future_cues" else fold(v) for v in value)
        elif f.name in _WORD_FIELDS:
            words[f.name] = frozenset(fold(v) for v in value)
        elif isinstance(value, tuple) and f.name != "range_pairs":
            phrases[f.name] = PhraseSet(value)
    maps: dict[str, PhraseMap[Any]] = {
        "months": PhraseMap(vocabulary.months.items()),
        "month_abbreviations": PhraseMap(vocabulary.month_abbreviations.items()),
        "seasons": PhraseMap(vocabulary.seasons.items()),
        "ordinals": PhraseMap(vocabulary.ordinals.items()),
        "parts": PhraseMap(vocabulary.parts.items()),
    }
    known = {token for group in (*phrases.values(), *maps.values()) for token in group.words()}
    known.update(words["stop_words"])
    triggers = {word for group in (*phrases.values(), *maps.values()) for word in group.first_words()}
    triggers.update(vocabulary.quarter_letters + vocabulary.half_letters + ("q", "h"))
    triggers.update(phrase_tokens(opener)[0] for opener, _ in vocabulary.range_pairs)
    return Compiled(
        code=vocabulary.code,
        months=maps["months"],
        month_abbreviations=maps["month_abbreviations"],
        seasons=maps["seasons"],
        ordinals=maps["ordinals"],
        parts=maps["parts"],
        phrases=phrases,
        range_pairs=tuple((PhraseSet([a]), PhraseSet([b])) for a, b in vocabulary.range_pairs),
        cues=cues,
        words=words,
        known=frozenset(known),
        triggers=frozenset(triggers),
        capitalised_months=vocabulary.capitalised_months,
        day_first=vocabulary.day_first,
    )


def merged(vocabularies: Iterable[Vocabulary], code: str) -> Vocabulary:
    """One vocabulary holding every word of the others: for text whose language cannot be told."""
    items = list(vocabularies)
    values: dict[str, Any] = {}
    for f in fields(Vocabulary):
        parts = [getattr(v, f.name) for v in items]
        if f.name == "code":
            values[f.name] = code
        elif isinstance(parts[0], bool):
            values[f.name] = all(parts) if f.name == "capitalised_months" else parts[0]
        elif isinstance(parts[0], tuple):
            values[f.name] = tuple(dict.fromkeys(x for p in parts for x in p))
        else:
            values[f.name] = {k: v for p in parts for k, v in p.items()}
    return Vocabulary(**values)


@cache
def vocabulary(code: str) -> Compiled:
    """The compiled vocabulary of `code` (fr, en, de, es), or of all of them for "any"."""
    from timeline.evidence.vocab import de, en, es, fr

    known = {v.VOCABULARY.code: v.VOCABULARY for v in (fr, en, de, es)}
    if code in known:
        return compile_vocabulary(known[code])
    return compile_vocabulary(merged(known.values(), "any"))


LANGUAGES = ("fr", "en", "de", "es")
