"""Which dates an article states move a milestone: pure, no database."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from timeline.config.milestones import MilestoneDef
from timeline.dates import point, span
from timeline.evidence import find_dates
from timeline.proposals.decide import Stated, propose, sentence_at

PUBLISHED = date(2026, 3, 1)
SPAN = MilestoneDef(id="build", title="Construction", schedule=span("2025", "2027"), starts="2025", ends="2027")
POINT = MilestoneDef(id="open", title="Opening", schedule=point("2026-Q3"), when="2026-Q3")


def stated(text: str, lang: str) -> list[Stated]:
    return [Stated(m, text) for m in find_dates(text, published=PUBLISHED, lang=lang)]


@pytest.mark.parametrize(
    ("text", "lang", "field", "proposed", "slip"),
    [
        ("Anthropic repousse à 2028 l'achèvement de ses centres de données.", "fr", "ends", "2028", 366),
        ("Construction is now expected to wrap up in the first half of 2028.", "en", "ends", "2028-H1", 182),
        ("Der Bau soll erst 2029 abgeschlossen werden.", "de", "ends", "2029", 731),
        ("La construcción comenzará en 2026.", "es", "starts", "2026", 365),
    ],
)
def test_a_date_outside_the_window_it_speaks_of_is_proposed(
    text: str, lang: str, field: str, proposed: str, slip: int
) -> None:
    p = propose(SPAN, stated(text, lang), PUBLISHED)
    assert p is not None
    assert (p.field, p.proposed.text, p.slip_days, p.direction) == (field, proposed, slip, "later")
    assert p.stated.sentence == text


def test_a_date_inside_the_window_or_no_date_proposes_nothing() -> None:
    assert propose(SPAN, stated("Construction runs through 2027, as planned.", "en"), PUBLISHED) is None
    assert propose(SPAN, stated("Anthropic engage 50 milliards de dollars et 3 200 emplois.", "fr"), PUBLISHED) is None
    assert propose(SPAN, [], PUBLISHED) is None


def test_a_start_phrase_moves_the_start_of_a_span_not_its_end() -> None:
    p = propose(SPAN, stated("Construction begins in 2024.", "en"), date(2024, 1, 10))
    assert p is not None and (p.field, p.proposed.text, p.direction) == ("starts", "2024", "earlier")
    assert p.slip_days == -366


def test_a_point_moves_earlier_and_a_range_proposes_the_end_it_speaks_of() -> None:
    p = propose(POINT, stated("The site will open in May 2026.", "en"), PUBLISHED)
    assert p is not None and (p.field, p.proposed.text, p.slip_days, p.direction) == (
        "when",
        "2026-05",
        -122,
        "earlier",
    )
    late = propose(POINT, stated("The opening is now planned for late 2027.", "en"), PUBLISHED)
    assert late is not None and late.proposed.text == "2027-12"  # "late 2027" is Sep-Dec: the same due date


def test_a_moved_date_proposes_the_new_one_and_history_is_ignored() -> None:
    moved = stated("The opening was pushed from Q3 2026 to spring 2027.", "en")
    p = propose(POINT, moved, PUBLISHED)
    assert p is not None and p.proposed.text == "2027-05"
    assert propose(POINT, stated("The company was founded in 2021.", "en"), PUBLISHED) is None


def test_done_and_cancelled_milestones_get_no_proposal() -> None:
    done = MilestoneDef(id="x", title="x", schedule=point("2026-Q3"), when="2026-Q3", status="done")
    assert propose(done, stated("It will open in 2029.", "en"), PUBLISHED) is None


def test_the_sentence_is_the_one_holding_the_phrase() -> None:
    text = "Anthropic grows. Its site opens in 2028! Nothing else.\nA new line."
    assert sentence_at(text, (text.index("2028"), text.index("2028") + 4)) == "Its site opens in 2028!"


@given(st.integers(min_value=1990, max_value=2090), st.integers(min_value=0, max_value=3))
def test_a_proposal_never_overlaps_the_window_it_replaces(year: int, form: int) -> None:
    text = [
        f"The site opens in {year}.",
        f"Completion by the end of {year}.",
        f"It opens in Q2 {year}.",
        f"In H2 {year}.",
    ][form]
    p = propose(SPAN, stated(text, "en"), PUBLISHED)
    if p is None:
        return
    assert p.proposed.end <= p.current.start or p.proposed.start >= p.current.end
    assert p.proposed.end.date() > PUBLISHED
    assert (p.slip_days > 0) == (p.direction == "later") or p.slip_days == 0
