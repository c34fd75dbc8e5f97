"""Dates written in digits: 2027-09-15, 15/09/2027, 15.09.2027, 09/15/2027, 09/2027, 2027-09, and
the short year ranges of seasons and fiscal years (2026-27, 2026/27)."""

from __future__ import annotations

from timeline.evidence.periods import FIRST_YEAR, LAST_YEAR, Read, Reader, Spec, Unit


def numeric_date(reader: Reader, i: int) -> Read | None:
    """2027-09-15, 15/09/2027, 15.09.2027, 09/15/2027 (English, when the day is over 12), 09/2027."""
    run = _glued_run(reader, i)
    texts = [reader.tokens[k].text for k in run]
    day = _day_fields(reader, texts)
    if day is not None:
        return _day_spec(reader, run[4] + 1, *day)
    return _month_slash_year(reader, run, texts) or _year_dash_month(reader, run, texts)


def _glued_run(reader: Reader, i: int) -> list[int]:
    """The indexes of up to five tokens written together from tokens[i] on."""
    run = [i]
    while run[-1] + 1 < len(reader.tokens) and reader.is_glued(run[-1] + 1) and len(run) < 5:
        run.append(run[-1] + 1)
    return run


def _day_fields(reader: Reader, texts: list[str]) -> tuple[int, int, int] | None:
    """(year, month, day) of 2027-09-15, 2027/09/15, 15/09/2027, 15.09.2027 or 09/15/2027."""
    if len(texts) < 5 or texts[1] != texts[3] or texts[1] not in {"-", "/", "."}:
        return None
    a, b, c = texts[0], texts[2], texts[4]
    if not (a.isdigit() and b.isdigit() and c.isdigit()):
        return None
    if len(a) == 4 and texts[1] in {"-", "/"}:
        return int(a), int(b), int(c)
    if len(c) != 4 or len(a) > 2 or len(b) > 2:
        return None
    if not reader.vocab.day_first and texts[1] == "/" and int(a) <= 12:
        return int(c), int(a), int(b)
    return int(c), int(b), int(a)


def _month_slash_year(reader: Reader, run: list[int], texts: list[str]) -> Read | None:
    """09/2027."""
    if len(texts) < 3 or texts[1] != "/" or not texts[0].isdigit() or len(texts[0]) > 2:
        return None
    year = reader.year(run[2])
    month = int(texts[0])
    if year is not None and 1 <= month <= 12 and not (len(texts) > 3 and texts[3] in {"/", "."}):
        return run[2] + 1, Spec(Unit.MONTH, year, month, numeric=True)
    return None


def _year_dash_month(reader: Reader, run: list[int], texts: list[str]) -> Read | None:
    """2027-09, but not the season 2026-27."""
    if len(texts) < 3 or texts[1] != "-" or len(texts[2]) != 2 or not texts[2].isdigit():
        return None
    year = reader.year(run[0])
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
    """ "2026-27", "2026/27": (index after, first year, second year)."""
    first = reader.year(i)
    if first is None or reader.text(i + 1) not in {"-", "/"} or not reader.is_glued(i + 1):
        return None
    if not reader.is_glued(i + 2):
        return None
    second = reader.number(i + 2, 0, 99, (2,))
    if second is None or second != (first + 1) % 100:
        return None
    return i + 3, first, first + 1
