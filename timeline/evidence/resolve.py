"""Where a period falls: a `Spec` placed against the publication date, as the first and last values
of the milestones.yaml vocabulary it spans ("2027-H2", or "2027-06" to "2027-08" for summer 2027).

The windows chosen (README, "Dates in news text"):
- early / mid / late of a year: its first, middle and last four months; of a half: two months each;
  of a quarter or a season: one month each; of a month: days 1-10, 11-20 and 21 to the end; of a
  decade: its first four, middle three and last three years. "Later this year": from the publication
  day to the end of the year.
- seasons are meteorological: spring March-May, summer June-August, autumn September-November,
  winter December to February of the next year (the winter that begins in that year).
- a period named without its year ("le 3 juillet", "au second semestre", "en mars") is its occurrence
  nearest the publication date; the next one not yet over when the sentence speaks of the future.
- "next July" is the first July that begins after the publication date, "last July" the last one
  over before it, "this summer" the nearest.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar

from timeline.dates import parse_window
from timeline.evidence.periods import FIRST_YEAR, LAST_YEAR, Spec, Unit
from timeline.evidence.vocab import Part

T = TypeVar("T")
Labels = tuple[str, str]  # first and last value, in the milestones.yaml vocabulary
_SEASON_START = (3, 6, 9, 12)


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def _month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _months(first: int, count: int) -> Labels:
    return _month_label(first), _month_label(first + count - 1)


def _days(first: date, last: date) -> Labels:
    return first.isoformat(), last.isoformat()


def _thirds(count: int, part: Part) -> tuple[int, int]:
    """(offset, size) of a part of `count` units: 12 → 4/4/4, 6 → 2/2/2, 3 → 1/1/1, 10 → 4/3/3."""
    early = -(-count // 3)
    mid = (count - early) // 2
    if part is Part.EARLY:
        return 0, early
    if part is Part.MID:
        return early, mid
    return early + mid, count - early - mid


_MONTHS_OF: dict[Unit, Callable[[int], tuple[int, int]]] = {  # (first month, months) of a period, by index
    Unit.MONTH: lambda index: (index, 1),
    Unit.SEASON: lambda index: (_SEASON_START[index - 1], 3),
    Unit.QUARTER: lambda index: (3 * index - 2, 3),
    Unit.HALF: lambda index: (6 * index - 5, 6),
    Unit.YEAR: lambda index: (1, 12),
    Unit.DECADE: lambda index: (1, 120),
}


def bounds(spec: Spec, year: int) -> tuple[date, date] | None:
    """The first day and the day after the last of `spec` in `year` (for a winter: the one it begins)."""
    try:
        if spec.unit is Unit.DAY:
            day = date(year, spec.index, spec.day)
            return day, day + timedelta(days=1)
        first_month, count = _MONTHS_OF[spec.unit](spec.index)
        start = _month_index(year, first_month)
        end = start + count
        return date(start // 12, start % 12 + 1, 1), date(end // 12, end % 12 + 1, 1)
    except (ValueError, KeyError, IndexError, OverflowError):
        return None


def labels(spec: Spec, year: int, published: date) -> Labels | None:
    """The vocabulary values spanned by `spec` in `year`, its part applied."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    span = bounds(spec, year)
    if span is None:
        return None
    start, end = span
    part = spec.part
    if part is Part.REST:
        first = max(start, published) if published < end else start
        return _days(first, end - timedelta(days=1))
    if spec.unit is Unit.DAY:
        return _days(start, start)
    if spec.unit is Unit.DECADE:
        offset, size = _thirds(10, part) if part else (0, 10)
        return str(year + offset), str(year + offset + size - 1)
    if spec.unit is Unit.MONTH:
        if part is None:
            label = f"{year:04d}-{spec.index:02d}"
            return label, label
        last_day = calendar.monthrange(year, spec.index)[1]
        first_day, last = {Part.EARLY: (1, 10), Part.MID: (11, 20), Part.LATE: (21, last_day)}[part]
        return _days(date(year, spec.index, first_day), date(year, spec.index, last))
    first_month = _month_index(start.year, start.month)
    count = _month_index(end.year, end.month) - first_month
    if part is not None:
        offset, size = _thirds(count, part)
        return _months(first_month + offset, size)
    if spec.unit is Unit.QUARTER:
        return f"{year:04d}-Q{spec.index}", f"{year:04d}-Q{spec.index}"
    if spec.unit is Unit.HALF:
        return f"{year:04d}-H{spec.index}", f"{year:04d}-H{spec.index}"
    if spec.unit is Unit.YEAR:
        return str(year), str(end.year - 1)
    return _months(first_month, count)


def _unit_shift(spec: Spec, published: date) -> Labels | None:
    """"next month", "ce trimestre", "l'an prochain": the unit holding the publication date, moved."""
    shift = spec.shift or 0
    if spec.unit is Unit.YEAR:
        return labels(Spec(Unit.YEAR, part=spec.part), published.year + shift, published)
    size = {Unit.MONTH: 1, Unit.QUARTER: 3, Unit.HALF: 6}.get(spec.unit)
    if size is None:
        return None
    index = (_month_index(published.year, published.month) // size + shift) * size
    year, within = divmod(index, 12)
    moved = Spec(spec.unit, index=within // size + 1, part=spec.part)
    return labels(moved, year, published)


def _gap(span: tuple[date, date], published: date) -> int:
    start, end = span
    if start <= published < end:
        return 0
    return (start - published).days if published < start else (published - end).days + 1


def resolve(spec: Spec, published: date, future: bool) -> Labels | None:
    """`spec` placed against `published`: its labels, or None when it names no real period."""
    if spec.year is not None:
        return labels(spec, spec.year, published)
    if spec.year_shift is not None:
        return labels(spec, published.year + spec.year_shift, published)
    if spec.index == 0:
        return _unit_shift(spec, published) if spec.shift is not None else None
    occurrences = []
    for year in range(published.year - 2, published.year + 3):
        found = labels(spec, year, published)
        span = _span(found) if found is not None else None
        if found is not None and span is not None:
            occurrences.append((span, found))
    return _choose(occurrences, published, spec.shift, future)


def _yearless(spec: Spec) -> bool:
    return not spec.has_year and spec.index > 0 and spec.shift is None


def resolve_pair(first: Spec, last: Spec, published: date, future: bool) -> tuple[Labels, Labels] | None:
    """Both ends of a range (or of a moved date: "from June to September"). When neither has a year,
    the pair is placed as one: the occurrence of the whole span nearest the publication date."""
    if not (_yearless(first) and _yearless(last)):
        a, b = resolve(first, published, future), resolve(last, published, future)
        return (a, b) if a is not None and b is not None else None
    occurrences = []
    for year in range(published.year - 2, published.year + 3):
        a = labels(first, year, published)
        head = _span(a) if a is not None else None
        if a is None or head is None:
            continue
        for tail_year in (year, year + 1):
            b = labels(last, tail_year, published)
            tail = _span(b) if b is not None else None
            if b is not None and tail is not None and tail[1] > head[0]:
                occurrences.append(((head[0], tail[1]), (a, b)))
                break
    return _choose(occurrences, published, None, future)


def _choose(
    occurrences: list[tuple[tuple[date, date], T]], published: date, shift: int | None, future: bool
) -> T | None:
    """Of the occurrences of a period (in time order): the next one that begins after `published`
    (shift 1), the last one over before it (shift -1), the first not over yet (the future), or the
    nearest, the later one on a tie."""
    if not occurrences:
        return None
    if shift == 1:
        chosen = [value for span, value in occurrences if span[0] > published][:1]
    elif shift == -1:
        chosen = [value for span, value in occurrences if span[1] <= published][-1:]
    elif future and shift is None:
        chosen = [value for span, value in occurrences if span[1] > published][:1]
    else:
        best = min(range(len(occurrences)), key=lambda k: (_gap(occurrences[k][0], published), -k))
        chosen = [occurrences[best][1]]
    return chosen[0] if chosen else None


def _span(found: Labels) -> tuple[date, date] | None:
    """The days a pair of vocabulary values spans: [first day, day after the last)."""
    try:
        return parse_window(found[0]).start.date(), parse_window(found[1]).end.date()
    except ValueError:
        return None
