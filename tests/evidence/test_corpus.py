"""The finder scored on the labelled news sentences (tests/evidence/*.yaml; see corpus.py for the
rules). The thresholds are the figures reported in the README, less a margin: a change that dates
fewer sentences right, or finds a date where none is written, fails here."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.evidence.corpus import load, load_all, ours, score
from timeline.evidence import detect_language


def test_the_labelled_set_is_large_varied_and_holds_numbers_that_are_not_dates() -> None:
    sentences = load_all()
    assert len(sentences) >= 300
    assert set(Counter(s.lang for s in sentences)) == {"fr", "en", "de", "es"}
    assert min(Counter(s.lang for s in sentences).values()) >= 60
    assert sum(s.has_other_numbers for s in sentences) >= 100
    assert sum(not s.dates for s in sentences) >= 60
    assert len(load("held-out")) >= 100


@pytest.mark.parametrize(("name", "floor"), [("development", 0.97), ("held-out", 0.95)])
def test_sentences_are_dated_right(name: str, floor: float) -> None:
    result = score(load(name), ours)
    assert result.accuracy >= floor, "\n".join(result.misses)


@pytest.mark.parametrize("name", ["development", "held-out"])
def test_no_date_is_found_where_none_is_written(name: str) -> None:
    result = score(load(name), ours)
    assert result.without_dates >= 20
    assert result.false_positives == 0, "\n".join(result.misses)


@pytest.mark.parametrize("lang", ["fr", "en", "de", "es"])
def test_each_language_is_read(lang: str) -> None:
    result = score([s for s in load_all() if s.lang == lang], ours)
    assert result.accuracy >= 0.95, "\n".join(result.misses)


def test_what_a_date_is_about_is_read_from_its_sentence() -> None:
    result = score(load_all(), ours)
    assert result.about_labelled >= 120
    assert result.about_right / result.about_labelled >= 0.85


def test_the_language_is_detected_from_the_sentence_alone() -> None:
    sentences = load_all()
    right = sum(detect_language(s.text) == s.lang for s in sentences)
    assert right / len(sentences) >= 0.97


def test_detected_language_dates_as_well_as_a_given_one() -> None:
    def detected(sentence):  # type: ignore[no-untyped-def]
        from timeline.evidence import find_dates

        return [((m.start, m.end), m.about.value) for m in find_dates(sentence.text, published=sentence.published)]

    assert score(load_all(), detected).accuracy >= 0.96
