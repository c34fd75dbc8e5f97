"""Dates written in digits: 2027-09-15, 15/09/2027, 15.09.2027, 09/15/2027, 09/2027, 2027-09, and
the short year ranges of seasons and fiscal years (2026-27, 2026/27)."""

from __future__ import annotations

from timeline.evidence.periods import FIRST_YEAR, LAST_YEAR, Read, Reader, Spec, Unit


def numeric_date(reader: Reader, i: int) -> Read | None:
    """2027-09-15, 15/09/2027, 15.09.2027, 09/15/2027 (English, when the day is over 12), 09/2027."""
    toks = reader.tokens
    n = len(toks)
    run = [i]
    while run[-1] + 1 < n and reader.is_glued(run[-1] + 1) and len(run) < 5:
        run.append(run[-1] + 1)
    texts = [toks[k].text for k in run]
    if len(texts) >= 5 and texts[1] == texts[3] and texts[1] in {"-", "/", "."}:
        a, b, c = texts[0], texts[2], texts[4]
        if len(a) == 4 and a.isdigit() and b.isdigit() and c.isdigit() and texts[1] in {"-", "/"}:
            return _day_spec(reader, run[4] + 1, int(a), int(b), int(c))
        if len(c) == 4 and a.isdigit() and b.isdigit() and c.isdigit() and len(a) <= 2 and len(b) <= 2:
            day, month = int(a), int(b)
            if not reader.vocab.day_first and texts[1] == "/" and int(a) <= 12:
                day, month = int(b), int(a)
            return _day_spec(reader, run[4] + 1, int(c), month, day)
    if len(texts) >= 3 and texts[1] == "/" and texts[0].isdigit() and len(texts[0]) <= 2:
        year = reader.year(run[2])
        month = int(texts[0])
        if year is not None and 1 <= month <= 12 and not (len(texts) > 3 and texts[3] in {"/", "."}):
            return run[2] + 1, Spec(Unit.MONTH, year, month, numeric=True)
    if len(texts) >= 3 and texts[1] == "-" and len(texts[2]) == 2 and texts[2].isdigit():
        year = reader.year(i)
        month = int(texts[2])
        ends_there = not (len(texts) > 3 and texts[3] in {"-", ".", ","})
        if year is not None and 1 <= month <= 12 and month != (year + 1) % 100 and ends_there:
            return run[2] + 1, Spec(Unit.MONTH, year, month, numeric=True)
    return None


def _day_spec(reader: Reader, end: int, year: int, month: int, day: int) -> Read | None:
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    if reader.is_glued(end) and reader.text(end) not in {"t", ",", ".", ")", ";", ":"}:
        return None
    return end, Spec(Unit.DAY, year, month, day, numeric=True)


def short_year_range(reader: Reader, i: int) -> tuple[int, int, int] | None:
    """"2026-27", "2026/27": (index after, first year, second year)."""
    first = reader.year(i)
    if first is None or reader.text(i + 1) not in {"-", "/"} or not reader.is_glued(i + 1):
        return None
    if not reader.is_glued(i + 2):
        return None
    second = reader.number(i + 2, 0, 99, (2,))
    if second is None or second != (first + 1) % 100:
        return None
    return i + 3, first, first + 1
