"""Text made comparable without moving a character: folding and tokens.

`fold` lower-cases, strips accents, and maps typographic apostrophes, dashes and spaces to their
ASCII forms, one character for one character, so an offset in the folded text is the same offset in
the original. The grammar reads folded tokens and reports spans of the original text.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

_APOSTROPHES = "\u2019\u2018\u02bc\u00b4\u0060\u2032"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"


class _FoldTable(dict[int, str]):
    """A `str.translate` table computed lazily, one character at a time, always to one character."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = _fold_char(char)
        self[code] = folded
        return folded


def _fold_char(char: str) -> str:
    if char in _APOSTROPHES:
        return "'"
    if char in _DASHES:
        return "-"
    if char.isspace():
        return " "
    try:
        decomposed = unicodedata.normalize("NFKD", char)
    except ValueError:
        return char
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    if len(base) == 1:
        return base
    lowered = char.lower()
    return lowered if len(lowered) == 1 else char


_TABLE = _FoldTable()


def fold(text: str) -> str:
    """`text` lower-cased, without accents, with plain apostrophes, dashes and spaces; same length."""
    return text.translate(_TABLE)


@dataclass(frozen=True, slots=True)
class Token:
    """A run of digits, a run of letters or one other character of the folded text, with its span."""

    text: str
    start: int
    end: int

    @property
    def is_number(self) -> bool:
        return self.text.isascii() and self.text.isdigit()

    @property
    def is_word(self) -> bool:
        return self.text.isalpha()


_TOKEN = re.compile(r"[0-9]+|[^\W\d_]+|[^\s]")


def tokenize(folded: str) -> list[Token]:
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(folded)]


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """How a vocabulary phrase ("jusqu'en", "by the end of") reads as folded tokens."""
    return tuple(t.text for t in tokenize(fold(phrase)))


def glued(left: Token, right: Token) -> bool:
    return left.end == right.start


_SENTENCE_END = re.compile(r"[.!?;:](?=\s)|\n")


class Sentences:
    """Where the sentences (and clauses ended by ; or :) of a folded text start, found once."""

    def __init__(self, folded: str) -> None:
        self._length = len(folded)
        self._starts = [0, *(m.end() for m in _SENTENCE_END.finditer(folded))]

    def around(self, start: int, end: int) -> tuple[int, int]:
        """The sentence holding `[start, end)`: from its first character to its last (exclusive)."""
        first = self._starts[bisect_right(self._starts, start) - 1]
        after = bisect_left(self._starts, end)
        last = self._starts[after] if after < len(self._starts) else self._length
        return first, last
