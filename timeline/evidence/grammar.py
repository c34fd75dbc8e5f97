"""The phrases of dates: a period (see `periods`), a part of it ("fin 2027", "mid-June"), a connector
("jusqu'en 2027", "by", "ab", "a partir de"), or a range ("de 2025 à 2027", "between March and June
2027", "2025-2027", "du 3 au 5 mai"). `read_phrases` walks the tokens once, taking at each place the
longest phrase that reads there, so the work grows with the length of the text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from timeline.evidence.guards import number_allowed
from timeline.evidence.numeric import numeric_date, short_year_range
from timeline.evidence.periods import FIRST_YEAR, LAST_YEAR, Read, Reader, Spec, Unit

_DAY_JOINERS = frozenset({"et", "and", "und", "y", "-", "&", "au", "bis", "to", "al"})


class Link(Enum):
    NONE = "none"
    UNTIL = "until"  # "jusqu'en 2027", "by 2027": the date is a deadline
    SINCE = "since"  # "à partir de 2027", "ab 2027": the date is a beginning
    BEFORE = "before"  # "avant 2027"
    RANGE = "range"  # "de 2025 à 2027"


@dataclass(frozen=True)
class Phrase:
    """A date phrase: tokens[start:end]; a range has `last` and the token spans of both ends."""

    start: int
    end: int
    first: Spec
    last: Spec | None = None
    link: Link = Link.NONE
    ends: tuple[tuple[int, int], tuple[int, int]] | None = None


def read_phrases(reader: Reader) -> list[Phrase]:
    found: list[Phrase] = []
    i, n = 0, len(reader.tokens)
    triggers = reader.vocab.triggers
    while i < n:
        token = reader.tokens[i]
        if not (token.text in triggers or (token.is_number and _may_begin(token.text))):
            i += 1
            continue
        phrase = _longest_at(reader, i)
        if phrase is None:
            i += 1
        else:
            found.append(phrase)
            i = phrase.end
    return found


def _may_begin(digits: str) -> bool:
    """A day or month (1-2 digits) or a year (1900-2100) may begin a date; other numbers do not."""
    return len(digits) <= 2 or (len(digits) == 4 and FIRST_YEAR <= int(digits) <= LAST_YEAR)


def _longest_at(reader: Reader, i: int) -> Phrase | None:
    best: Phrase | None = None
    for phrase in _candidates(reader, i):
        if (best is None or phrase.end > best.end) and _acceptable(reader, phrase):
            best = phrase
    return best


def _candidates(reader: Reader, i: int) -> list[Phrase]:
    v, tokens = reader.vocab, reader.tokens
    out: list[Phrase] = []
    first = endpoint(reader, i)
    if first is not None:
        out.append(Phrase(i, first[0], first[1]))
        k = v.phrases["range_middles"].at(tokens, first[0])
        out.extend(_range(reader, i, i, first, k, tail_day=reader.text(first[0]) == "-"))
    day = _bare_day(reader, i)
    if day is not None and reader.text(day[0]) in _DAY_JOINERS:
        out.extend(_range(reader, i, i, day, day[0] + 1, tail_day=False))
    short = short_year_range(reader, i)
    if short is not None:
        end, a, b = short
        years = Spec(Unit.YEAR, a, numeric=True), Spec(Unit.YEAR, b, numeric=True)
        out.append(Phrase(i, end, years[0], years[1], Link.RANGE, ((i, i + 1), (i + 2, end))))
    for name, link in (("until", Link.UNTIL), ("since", Link.SINCE), ("before", Link.BEFORE)):
        j = v.at(name, tokens, i)
        if j is not None:
            after = endpoint(reader, reader.skip_determiners(j))
            if after is not None:
                out.append(Phrase(i, after[0], after[1], link=link))
    for opener, middle in v.range_pairs:
        j = opener.at(tokens, i)
        if j is not None:
            start = reader.skip_determiners(j)
            head = endpoint(reader, start) or _bare_day(reader, start)
            if head is not None:
                out.extend(_range(reader, i, start, head, middle.at(tokens, head[0]), tail_day=True))
    return out


def _range(reader: Reader, i: int, head_start: int, head: Read, k: int | None, tail_day: bool) -> list[Phrase]:
    """The range from `head` to the period after the middle word that ends at `k`."""
    if k is None:
        return []
    start = reader.skip_determiners(k)
    tail = endpoint(reader, start)
    if tail is None and tail_day:
        tail = _bare_day(reader, start, after_month=head[1].unit is Unit.DAY)
    if tail is None or (head[1].unit is Unit.DAY and head[1].index == 0 and tail[1].unit is not Unit.DAY):
        return []
    first, last = _inherit(head[1], tail[1])
    if first is None or last is None:
        return []
    return [Phrase(i, tail[0], first, last, Link.RANGE, ((head_start, head[0]), (start, tail[0])))]


def _bare_day(reader: Reader, i: int, after_month: bool = False) -> Read | None:
    """A day alone, as the first end of "du 3 au 5 mai" or the second of "May 3-5, 2027"."""
    if i >= len(reader.tokens):
        return None
    day = reader.day(i)
    if day is None:
        return None
    j, value = day
    if after_month:
        k = j + 1 if reader.text(j) == "," else j
        year = reader.year(k)
        if year is not None:
            return k + 1, Spec(Unit.DAY, year, 0, value)
    return j, Spec(Unit.DAY, day=value)


def _inherit(first: Spec, last: Spec) -> tuple[Spec | None, Spec | None]:
    """The ends of a range complete each other: "du 3 au 5 mai 2027", "de mars à juin 2027"."""
    if first.unit is Unit.DAY and first.index == 0:
        if last.unit is not Unit.DAY or last.index == 0:
            return None, None
        first = replace(first, index=last.index)
    if last.unit is Unit.DAY and last.index == 0:
        if first.unit is not Unit.DAY:
            return None, None
        last = replace(last, index=first.index, year=last.year if last.year is not None else first.year)
        if last.year is not None and first.year is None:
            first = replace(first, year=last.year)
    if not first.has_year and last.has_year:
        first = replace(first, year=last.year, year_shift=last.year_shift, bare=False)
    elif first.has_year and not last.has_year and last.shift is None:
        last = replace(last, year=first.year, year_shift=first.year_shift, bare=False)
    return replace(first, bare=False), replace(last, bare=False)


def endpoint(reader: Reader, i: int) -> Read | None:
    """The longest period at `i`, with the part of it written before it ("fin", "mid-", "Anfang")."""
    if i not in reader.endpoints:
        reader.endpoints[i] = _endpoint(reader, i)
    return reader.endpoints[i]


def _endpoint(reader: Reader, i: int) -> Read | None:
    if i >= len(reader.tokens):
        return None
    best: Read | None = None
    for read in _periods(reader, i):
        if read is not None and (best is None or read[0] > best[0]):
            best = read
    found = reader.vocab.parts.match(reader.tokens, i)
    if found is not None:
        j, part = found
        link = reader.vocab.at("part_links", reader.tokens, j)
        for start in (j, link) if link is not None else (j,):
            for read in (_this_year(reader, start), *_periods(reader, start)):
                if read is not None and read[1].unit is not Unit.DAY and (best is None or read[0] > best[0]):
                    best = read[0], replace(read[1], part=part, bare=False, numeric=False)
    return best


def _this_year(reader: Reader, i: int) -> Read | None:
    """After a part, "l'année", "the year", "des Jahres", "año": the year of publication."""
    j = reader.vocab.at("this_year_words", reader.tokens, i)
    return (j, Spec(Unit.YEAR, year_shift=0)) if j is not None else None


def _periods(reader: Reader, i: int) -> list[Read | None]:
    if i >= len(reader.tokens):
        return []
    year = reader.year_ref(i)
    years: Read | None = None
    if year is not None:
        j, value, shift = year
        years = j, Spec(Unit.YEAR, value, year_shift=shift, numeric=value is not None)
    return [
        numeric_date(reader, i),
        reader.decade(i),
        reader.quarter_or_half(i),
        reader.named_month(i),
        reader.shifted_name(i),
        reader.season(i),
        reader.relative_period(i),
        years,
    ]


def _acceptable(reader: Reader, phrase: Phrase) -> bool:
    first, last = phrase.first, phrase.last
    alone = last is None and first.bare and first.part is None and first.shift is None and phrase.link is Link.NONE
    if alone and not reader.vocab.phrases["month_context"].ends_at(reader.tokens, phrase.start):
        return False  # "Juillet sera décisif": a month alone is a date after "en", "in", "im", "durante"
    if first.letter_code and phrase.start > 0 and phrase.link is Link.NONE:
        p = phrase.start - 1
        if reader.capitalised(p) and reader.text(p) not in reader.vocab.known:
            return False  # "Audi Q3"
    strict = first.unit is Unit.YEAR and first.numeric and (last is None or last.unit is Unit.YEAR)
    return number_allowed(reader, phrase.start, phrase.end, strict)
