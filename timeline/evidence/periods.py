"""The calendar periods a phrase names, read from tokens: years, halves, quarters, months, days,
seasons and decades, absolute ("T3 2027") or relative ("l'an prochain", "next July").

Each reader takes the token index where a period may start and returns `(index after it, Spec)` or
None. A `Spec` may lack its year ("le 3 juillet", "au second semestre"): `timeline.evidence.resolve`
places it against the publication date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from timeline.evidence.text import Sentences, Token, glued
from timeline.evidence.vocab import Compiled, Part

FIRST_YEAR, LAST_YEAR = 1900, 2100


class Unit(IntEnum):
    DAY = 1
    MONTH = 2
    SEASON = 3
    QUARTER = 4
    HALF = 5
    YEAR = 6
    DECADE = 7


@dataclass(frozen=True)
class Spec:
    """A period as written. `index` is the month, season (1 spring .. 4 winter), quarter or half;
    0 with `shift` means "the one holding the publication date, moved by shift" ("next month").
    With a name and a shift, `shift` picks the occurrence: -1 last, 0 this, 1 next ("juillet prochain").
    `year_shift` is a year written relatively ("second half of next year")."""

    unit: Unit
    year: int | None = None
    index: int = 0
    day: int = 0
    part: Part | None = None
    shift: int | None = None
    year_shift: int | None = None
    bare: bool = False  # a month or season named alone: a date only where the context says so
    numeric: bool = False  # begins or ends with a number that could be an amount (a bare year)
    letter_code: bool = False  # "Q3" alone: could be a model name ("Audi Q3")

    @property
    def has_year(self) -> bool:
        return self.year is not None or self.year_shift is not None


Read = tuple[int, Spec]
_DETERMINERS = frozenset({"the", "le", "la", "les", "el", "los", "las", "der", "die", "das", "dem", "den"})


class Reader:
    """Reads periods from the tokens of one text in one vocabulary."""

    def __init__(self, tokens: list[Token], original: str, vocab: Compiled, sentences: Sentences) -> None:
        self.tokens = tokens
        self.original = original
        self.vocab = vocab
        self.sentences = sentences
        self._title_case: dict[int, bool] = {}
        self._day_suffixes = vocab.phrases["day_suffixes"].words()
        self._quarter_letters = vocab.phrases["quarter_letters"].words() | {"q"}
        self._half_letters = vocab.phrases["half_letters"].words() | {"h"}
        self._relative_starts = frozenset().union(
            *(
                vocab.phrases[name].first_words()
                for name in ("articles", "next_before", "this_before", "last_before", "year_units", "month_units",
                             "quarter_units", "half_units")
            )
        )
        self.endpoints: dict[int, Read | None] = {}  # memo of grammar.endpoint, by token index

    # -- small pieces

    def text(self, i: int) -> str:
        return self.tokens[i].text if i < len(self.tokens) else ""

    def is_glued(self, i: int) -> bool:
        """True when tokens[i] touches tokens[i - 1]."""
        return 0 < i < len(self.tokens) and glued(self.tokens[i - 1], self.tokens[i])

    def capitalised(self, i: int) -> bool:
        return self.original[self.tokens[i].start].isupper()

    def skip_determiners(self, i: int) -> int:
        """After "the", "le", "l'", "el", "dem": and "le mois de", "el mes de", "the month of"."""
        if self.text(i) in _DETERMINERS:
            i += 1
        elif self.text(i) == "l" and self.text(i + 1) == "'":
            i += 2
        return self.skip_month_word(i)

    def skip_month_word(self, i: int) -> int:
        """"mois de", "mes de", "month of", "Monat": the month's name follows."""
        j = self.vocab.at("month_units", self.tokens, i)
        if j is None:
            return i
        if self.text(j) in {"de", "of"}:
            j += 1
        elif self.text(j) == "d" and self.text(j + 1) == "'":
            j += 2
        return j if self.month(j) is not None else i

    def number(self, i: int, lo: int, hi: int, width: tuple[int, ...] = (1, 2)) -> int | None:
        token = self.tokens[i] if i < len(self.tokens) else None
        if token is None or not token.is_number or len(token.text) not in width:
            return None
        value = int(token.text)
        return value if lo <= value <= hi else None

    def year(self, i: int) -> int | None:
        return self.number(i, FIRST_YEAR, LAST_YEAR, (4,))

    def day(self, i: int) -> tuple[int, int] | None:
        """A day of the month with its suffix ("1er", "15.", "3rd"): (index after, day)."""
        value = self.number(i, 1, 31)
        if value is None:
            return None
        j = i + 1
        if self.is_glued(j) and self.text(j) in self._day_suffixes:
            j += 1
        return j, value

    # -- years

    def year_ref(self, i: int) -> tuple[int, int | None, int | None] | None:
        """A year, written ("2027", "l'année 2027") or relative ("l'année prochaine"):
        (index after, year, year_shift)."""
        j = self.vocab.at("year_words", self.tokens, i)
        for start in (j, i) if j is not None else (i,):
            year = self.year(start)
            if year is not None and not self._continues_as_number(start):
                return start + 1, year, None
        relative = self.relative_unit(i, "year_units")
        if relative is not None:
            return relative[0], None, relative[1]
        return None

    def _continues_as_number(self, i: int) -> bool:
        """True when the digits at `i` go on as a longer number: "2027,5", "2027.10"."""
        nxt = i + 1
        return self.is_glued(nxt) and self.text(nxt) in {",", "."} and self.is_glued(nxt + 1) and (
            self.tokens[nxt + 1].is_number if nxt + 1 < len(self.tokens) else False
        )

    def relative_unit(self, i: int, units: str) -> tuple[int, int] | None:
        """"next year", "l'an prochain", "diesen Monat": (index after, shift)."""
        v, tokens = self.vocab, self.tokens
        if self.text(i) not in self._relative_starts:
            return None
        start = v.at("articles", tokens, i) or i
        for name, shift in (("next_before", 1), ("this_before", 0), ("last_before", -1)):
            j = v.at(name, tokens, start)
            if j is not None:
                k = v.at(units, tokens, j)
                if k is not None:
                    return self._this_suffix(k), shift
        k = v.at(units, tokens, start)
        if k is not None:
            for name, shift in (("next_after", 1), ("last_after", -1)):
                after = v.at(name, tokens, k)
                if after is not None:
                    return after, shift
        return None

    def _this_suffix(self, k: int) -> int:
        """"ce mois-ci": the "-ci" belongs to the phrase."""
        if self.text(k) == "-" and self.text(k + 1) == "ci":
            return k + 2
        return k

    def with_year(self, i: int, spec: Spec) -> Read:
        """`spec` followed by its year if one is written ("septembre 2027", "Q3 of next year")."""
        link = self.vocab.at("period_links", self.tokens, i)
        for start in (i, link) if link is not None else (i,):
            found = self.year_ref(start)
            if found is not None:
                j, year, year_shift = found
                return j, replace(spec, year=year, year_shift=year_shift)
        return i, spec

    # -- the periods

    def decade(self, i: int) -> Read | None:
        j = self.vocab.at("decade_before", self.tokens, i)
        start = j if j is not None else i
        year = self.year(start)
        if year is None or year % 10:
            return None
        end = start + 1
        suffix = self.vocab.at("decade_suffixes", self.tokens, end)
        if suffix is not None and self.is_glued(end):
            if self.text(suffix) == "-" and self.text(suffix + 1).startswith("jahr"):
                suffix += 2
            elif self.text(suffix).startswith("jahr"):
                suffix += 1
            return suffix, Spec(Unit.DECADE, year)
        return (end, Spec(Unit.DECADE, year)) if j is not None else None

    def quarter_or_half(self, i: int) -> Read | None:
        v, tokens = self.vocab, self.tokens
        found = v.ordinals.match(tokens, i)
        if found is not None:
            j, number = found
            for words, unit, needs_year in (
                ("quarter_words", Unit.QUARTER, False),
                ("half_words", Unit.HALF, False),
                ("half_words_needing_year", Unit.HALF, True),
            ):
                k = v.at(words, tokens, j)
                if k is not None and (unit is Unit.QUARTER or number <= 2):
                    end, spec = self.with_year(k, Spec(unit, index=number))
                    if needs_year and not spec.has_year:
                        return None
                    return end, spec
            return None
        return self._letter_code(i)

    def _letter_code(self, i: int) -> Read | None:
        """Q3, T3, H2, S2, 3Q, 2H (letter and digit touching), or 2027-Q3."""
        year = None
        if self.year(i) is not None and self.text(i + 1) in {"-", "/"} and self.is_glued(i + 1):
            year, i = self.year(i), i + 2
        letter, digit, j = self.text(i), self.text(i + 1), i + 2
        if not self.is_glued(i + 1):
            return None
        if letter.isdigit():
            letter, digit = digit, letter
        quarters, halves = self._quarter_letters, self._half_letters
        if letter in quarters and digit in {"1", "2", "3", "4"}:
            spec = Spec(Unit.QUARTER, index=int(digit))
        elif letter in halves and digit in {"1", "2"}:
            spec = Spec(Unit.HALF, index=int(digit))
        else:
            return None
        if year is not None:
            return j, replace(spec, year=year)
        k = j + 1 if self.text(j) in {"/", "'", "-"} and self.is_glued(j) else j
        end, spec = self.with_year(k, spec)
        if spec.has_year:
            return end, replace(spec, numeric=True)
        return (j, replace(spec, letter_code=True)) if letter == "q" else None

    def month(self, i: int) -> tuple[int, int, bool] | None:
        """A month's name: (index after, month, abbreviated). English and German write it
        with a capital ("may" is a verb); French and Spanish write it in lower case ("Mars" is a planet)."""
        v = self.vocab
        found = v.months.match(self.tokens, i)
        abbreviated = False
        if found is None:
            found = v.month_abbreviations.match(self.tokens, i)
            abbreviated = True
        if found is None:
            return None
        if v.capitalised_months and not self.capitalised(i):
            return None
        j, month = found
        return j, month, abbreviated

    def named_month(self, i: int) -> Read | None:
        """Days and months: "15 septembre 2027", "September 15, 2027", "15 de septiembre de 2027",
        "15. September", "septembre 2027", "juillet prochain", "mars"."""
        day = self.day(i)
        if day is not None:
            j, value = day
            j = self.vocab.at("day_links", self.tokens, j) or j
            month = self.month(j)
            if month is not None:
                return self.with_year(month[0], Spec(Unit.DAY, index=month[1], day=value, numeric=True))
            return None
        month = self.month(i)
        if month is None:
            return None
        end, index, abbreviated = month
        after_day = self.day(end)
        if after_day is not None and self.vocab.code in {"en", "any"}:
            k, value = after_day
            k2 = k + 1 if self.text(k) == "," else k
            year = self.year(k2)
            if year is not None:
                return k2 + 1, Spec(Unit.DAY, year, index, value, numeric=True)
            if self.year(k) is None:
                return k, Spec(Unit.DAY, index=index, day=value)
        relative = self._shifted_after(end)
        if relative is not None:
            return relative[0], Spec(Unit.MONTH, index=index, shift=relative[1])
        j, spec = self.with_year(end, Spec(Unit.MONTH, index=index))
        if spec.has_year:
            return j, replace(spec, numeric=spec.year is not None)
        if abbreviated:
            return None
        if self.vocab.code in {"fr", "es"} and self.capitalised(i) and not self.sentence_start(i):
            return None
        return end, replace(spec, bare=True)

    def _shifted_after(self, j: int) -> tuple[int, int] | None:
        for name, shift in (("next_after", 1), ("last_after", -1)):
            k = self.vocab.at(name, self.tokens, j)
            if k is not None:
                return k, shift
        return None

    def sentence_start(self, i: int) -> bool:
        """True when tokens[i] opens a sentence, a quotation or a heading (its capital says nothing)."""
        before = self.original[max(0, self.tokens[i].start - 20) : self.tokens[i].start].rstrip()
        return i == 0 or not before or before[-1] in ".!?:;«\"“(—–-\n"

    def title_case(self, i: int) -> bool:
        """True when the sentence around tokens[i] is written in title case ("Anthropic Delays Texas
        Campus to 2028"): then a capital before a year says nothing either."""
        start, end = self.sentences.around(self.tokens[i].start, self.tokens[i].end)
        if start not in self._title_case:
            words = [w for w in self.original[start:end].split() if len(w) >= 4 and w[0].isalpha()]
            capitals = sum(1 for w in words if w[0].isupper())
            self._title_case[start] = len(words) >= 3 and capitals >= 0.6 * len(words)
        return self._title_case[start]

    def season(self, i: int) -> Read | None:
        found = self.vocab.seasons.match(self.tokens, i)
        if found is None:
            return None
        j, index = found
        relative = self._shifted_after(j)
        if relative is not None:
            return relative[0], Spec(Unit.SEASON, index=index, shift=relative[1])
        if index == 4:  # "hiver 2026-2027", "winter 2026/27": the winter that begins in 2026
            first = self.year(j)
            if first is not None and self.text(j + 1) in {"-", "/"}:
                second = self.number(j + 2, 0, 9999, (2, 4))
                if second is not None and second % 100 == (first + 1) % 100:
                    return j + 3, Spec(Unit.SEASON, first, index)
        end, spec = self.with_year(j, Spec(Unit.SEASON, index=index))
        return (end, spec) if spec.has_year else (end, replace(spec, bare=True))

    def shifted_name(self, i: int) -> Read | None:
        """"next July", "im kommenden Juli", "el próximo verano", "cet été", "l'été prochain"."""
        v, tokens = self.vocab, self.tokens
        start = v.at("articles", tokens, i) or i
        for name, shift in (("next_before", 1), ("this_before", 0), ("last_before", -1)):
            j = v.at(name, tokens, start)
            if j is None:
                continue
            month = self.month(self.skip_month_word(j))
            if month is not None and not month[2]:
                return month[0], Spec(Unit.MONTH, index=month[1], shift=shift)
            season = v.seasons.match(tokens, j)
            if season is not None:
                return season[0], Spec(Unit.SEASON, index=season[1], shift=shift)
        if start != i:
            named = self.season(start)
            if named is not None and named[1].shift is not None:
                return named
        return None

    def relative_period(self, i: int) -> Read | None:
        """"next year", "le mois prochain", "ce trimestre", "el próximo semestre"."""
        for units, unit in (
            ("year_units", Unit.YEAR),
            ("month_units", Unit.MONTH),
            ("quarter_units", Unit.QUARTER),
            ("half_units", Unit.HALF),
        ):
            found = self.relative_unit(i, units)
            if found is not None:
                return found[0], Spec(unit, shift=found[1])
        return None
