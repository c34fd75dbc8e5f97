"""The labelled news sentences (sentences.yaml, holdout.yaml) and how the finder is scored on them.

A sentence is dated right when the windows found are exactly the windows labelled (as a multiset:
no window missing, none extra). A false positive is a sentence labelled with no date where one was
found. The phrase's text is not compared: "l’an prochain" and "an prochain" name the same window.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ruamel.yaml import YAML

from timeline.dates import parse_window

HERE = Path(__file__).parent
SETS = {"development": HERE / "sentences.yaml", "held-out": HERE / "holdout.yaml"}
Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class Expected:
    phrase: str
    window: Window
    about: str | None


@dataclass(frozen=True)
class Sentence:
    lang: str
    published: date
    text: str
    dates: tuple[Expected, ...]
    source: str

    @property
    def has_other_numbers(self) -> bool:
        """True when the sentence holds digits outside its dates: an amount, a count, a name."""
        rest = self.text
        for expected in self.dates:
            rest = rest.replace(expected.phrase, " ", 1)
        return re.search(r"\d", rest) is not None


def window(value: str) -> Window:
    first, _, last = value.partition("..")
    return parse_window(first).start, parse_window(last or first).end


def load(name: str) -> list[Sentence]:
    rows = YAML(typ="safe").load(SETS[name].read_text(encoding="utf-8"))
    out = []
    for row in rows:
        dates = tuple(Expected(d[0], window(str(d[1])), d[2] if len(d) > 2 else None) for d in row["dates"])
        out.append(Sentence(row["lang"], row["published"], row["text"], dates, name))
    return out


def load_all() -> list[Sentence]:
    return [s for name in SETS for s in load(name)]


Finder = Callable[[Sentence], list[tuple[Window, str | None]]]


@dataclass
class Score:
    sentences: int = 0
    right: int = 0
    without_dates: int = 0
    false_positives: int = 0
    about_labelled: int = 0
    about_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.sentences if self.sentences else 0.0


def score(sentences: Iterable[Sentence], finder: Finder) -> Score:
    result = Score()
    for sentence in sentences:
        found = finder(sentence)
        result.sentences += 1
        expected = Counter(e.window for e in sentence.dates)
        if Counter(w for w, _ in found) == expected:
            result.right += 1
            about = dict(found)
            for e in sentence.dates:
                if e.about:
                    result.about_labelled += 1
                    result.about_right += about.get(e.window) == e.about
        else:
            result.misses.append(f"[{sentence.lang} {sentence.published}] {sentence.text}\n   found {found}")
        if not sentence.dates:
            result.without_dates += 1
            result.false_positives += bool(found)
    return result


def ours(sentence: Sentence) -> list[tuple[Window, str | None]]:
    from timeline.evidence import find_dates

    found = find_dates(sentence.text, published=sentence.published, lang=sentence.lang)
    return [((m.start, m.end), m.about.value) for m in found]
