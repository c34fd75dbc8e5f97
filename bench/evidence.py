"""Reading dates in news text: how right, and how the cost grows with the text.

Rows (ratio = ours / baseline):
- `sentences dated right`: of the labelled news sentences (tests/evidence), how many `find_dates`
  dates exactly right, against `dateparser.search.search_dates` scored leniently (each point it
  returns counts as right when it falls inside a labelled window). High is better. The row is left
  out when dateparser is not installed: it is measured, not depended on (README, design notes).
- `sentences without a date left alone`: of the sentences labelled with no date (amounts, counts,
  versions, names), those where no date was found, ours and dateparser's. High is better.
- `100 KB vs 10 KB`: seconds to read 100 KB of news text against ten times the seconds for 10 KB of
  the same text. About 1 when the cost grows linearly (no pattern backtracks over the text).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from tests.evidence.corpus import Sentence, load_all, ours, score
from timeline.evidence import find_dates

Row = tuple[str, float, float, float]


def _dateparser_finder():  # type: ignore[no-untyped-def]
    try:
        from dateparser.search import search_dates
    except ImportError:
        return None

    def find(sentence: Sentence) -> list:  # type: ignore[type-arg]
        base = datetime(sentence.published.year, sentence.published.month, sentence.published.day)
        found = search_dates(sentence.text, languages=[sentence.lang], settings={"RELATIVE_BASE": base}) or []
        out = []
        for _, moment in found:
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            window = next((e.window for e in sentence.dates if e.window[0] <= moment < e.window[1]), None)
            out.append(((window or (moment, moment)), None))
        return out

    return find


def _news(size: int, sentences: list[Sentence]) -> str:
    text, k = [], 0
    length = 0
    while length < size:
        line = sentences[k % len(sentences)].text
        text.append(line)
        length += len(line) + 1
        k += 1
    return " ".join(text)[:size]


def _seconds(text: str, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        find_dates(text, published=datetime(2026, 6, 1, tzinfo=UTC))
        best = min(best, time.perf_counter() - started)
    return best


def run(sentences: int | None = None, size: int = 100_000, rounds: int = 3) -> list[Row]:
    labelled = load_all()[:sentences] if sentences else load_all()
    rows: list[Row] = []
    mine = score(labelled, ours)
    theirs_finder = _dateparser_finder()
    if theirs_finder is not None:
        theirs = score(labelled, theirs_finder)
        rows.append(("sentences dated right", mine.right, max(theirs.right, 1), mine.right / max(theirs.right, 1)))
        quiet_mine = mine.without_dates - mine.false_positives
        quiet_theirs = max(theirs.without_dates - theirs.false_positives, 1)
        rows.append(("sentences without a date left alone", quiet_mine, quiet_theirs, quiet_mine / quiet_theirs))
    else:
        rows.append(("sentences dated right (of all)", mine.right, mine.sentences, mine.accuracy))
    big = _news(size, labelled)
    small = big[: size // 10]
    _seconds(small, 1)  # vocabularies compiled before timing
    large, tenth = _seconds(big, rounds), _seconds(small, rounds)
    rows.append((f"{size // 1000} KB vs {size // 10_000} KB x10", large, tenth * 10, large / (tenth * 10)))
    return rows
