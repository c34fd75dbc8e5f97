"""Invariants of the date finder over generated text: windows are non-empty and contiguous, spans are
the phrase as written, amounts and counts never become dates, and no input makes it raise."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timeline.evidence import find_dates

LANGS = st.sampled_from(["fr", "en", "de", "es", None, "it", "fr-FR", ""])
DAYS = st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31))
ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None), max_size=400)
WORDS = st.sampled_from(
    [
        "en",
        "in",
        "im",
        "de",
        "du",
        "au",
        "la",
        "the",
        "fin",
        "début",
        "mi-",
        "early",
        "late",
        "end of",
        "Ende",
        "Anfang",
        "finales de",
        "jusqu'en",
        "d'ici",
        "by",
        "bis",
        "hasta",
        "from",
        "to",
        "à",
        "et",
        "and",
        "entre",
        "between",
        "von",
        "zwischen",
        "y",
        "T3",
        "Q3",
        "H2",
        "S2",
        "trimestre",
        "quarter",
        "Quartal",
        "semestre",
        "Halbjahr",
        "septembre",
        "September",
        "septiembre",
        "mai",
        "May",
        "été",
        "summer",
        "Sommer",
        "verano",
        "prochain",
        "next",
        "nächstes",
        "próximo",
        "l'an",
        "year",
        "Jahr",
        "año",
        "2025",
        "2027",
        "1999",
        "2100",
        "15",
        "1er",
        "3.",
        "-",
        "/",
        ",",
        ".",
        "2026-27",
        "2027-09-15",
        "15/09/2027",
        "%",
        "MW",
        "€",
        "$",
        "emplois",
        "jobs",
        "millions",
        "2 027",
        "3,200",
        "1.500",
    ]
)
PHRASE_SOUP = st.lists(WORDS, max_size=30).map(" ".join)


def _check(text: str, mentions: list) -> None:
    last_end = 0
    for m in mentions:
        start, end = m.span
        assert 0 <= start < end <= len(text)
        assert text[start:end] == m.text
        assert start >= last_end  # phrases do not overlap and come in order
        last_end = end
        assert m.start < m.end
        assert m.start.utcoffset().total_seconds() == 0 and m.end.utcoffset().total_seconds() == 0


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT, lang=LANGS, published=DAYS)
def test_any_text_gives_well_formed_windows(text: str, lang: str | None, published: date) -> None:
    _check(text, find_dates(text, published=published, lang=lang))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(text=PHRASE_SOUP, lang=LANGS, published=DAYS)
def test_soups_of_date_words_give_well_formed_windows(text: str, lang: str | None, published: date) -> None:
    _check(text, find_dates(text, published=published, lang=lang))


COUNTED = {
    "fr": ["salariés", "emplois", "personnes", "MW", "euros", "%", "habitants", "logements", "tonnes", "km"],
    "en": ["employees", "jobs", "people", "MW", "dollars", "%", "homes", "tons", "miles", "percent"],
    "de": ["Mitarbeiter", "Arbeitsplätze", "Menschen", "MW", "Euro", "Prozent", "Haushalte", "Tonnen", "km"],
    "es": ["empleados", "empleos", "personas", "MW", "euros", "%", "viviendas", "toneladas", "kilómetros"],
}
GROUPED = st.sampled_from(["{n}", "{a} {b:03d}", "{a},{b:03d}", "{a}.{b:03d}", "{a}\u202f{b:03d}", "{a}\u00a0{b:03d}"])
PREFIX = {
    "fr": ["", "plus de ", "environ ", "soit ", "avec "],
    "en": ["", "more than ", "about ", "with ", "some "],
    "de": ["", "mehr als ", "rund ", "mit ", "etwa "],
    "es": ["", "más de ", "unos ", "con ", "cerca de "],
}


@settings(max_examples=250)
@given(
    lang=st.sampled_from(sorted(COUNTED)),
    n=st.integers(min_value=1, max_value=9999),
    form=GROUPED,
    pick=st.integers(min_value=0, max_value=20),
    published=DAYS,
)
def test_amounts_and_counts_are_never_dates(lang: str, n: int, form: str, pick: int, published: date) -> None:
    """Any number, written plain or grouped in thousands, before a unit or a counted noun (years
    included: "2027 MW", "2 027 salariés", "2030 employees"), never yields a date."""
    number = form.format(n=n, a=max(1, n // 1000), b=n % 1000)
    unit = COUNTED[lang][pick % len(COUNTED[lang])]
    prefix = PREFIX[lang][pick % len(PREFIX[lang])]
    text = f"{prefix}{number} {unit}".strip()
    assert find_dates(text, published=published, lang=lang) == [], text


@settings(max_examples=150)
@given(
    n=st.integers(min_value=1900, max_value=2100),
    template=st.sampled_from(
        [
            "€{n}",
            "${n}",
            "{n} €",
            "US${n}",
            "page {n}",
            "p. {n}",
            "Windows {n}",
            "iPhone {n}",
            "GPT-{n}",
            "COVID-{n}",
            "Section {n}",
            "version {n}",
            "{n}.5",
            "{n},75",
            "1,{n}",
            "1.{n}",
            "n° {n}",
            "#{n}",
            "{n}%",
            "{n} %",
            "A{n}",
            "FY{n}X",
            "{n}-megawatt",
            "{n} millions",
            "{n} milliards",
            "RTX {n}",
        ]
    ),
    lang=st.sampled_from(["fr", "en", "de", "es", None]),
)
def test_money_names_and_decimals_are_never_dates(n: int, template: str, lang: str | None) -> None:
    text = template.format(n=n)
    assert find_dates(text, published=date(2026, 3, 14), lang=lang) == [], text


def test_hostile_text_is_read_without_error() -> None:
    published = datetime(2026, 3, 14, tzinfo=UTC)
    for text in (
        "\x00" * 1000 + "en 2027",
        "\ud800\udfff 2027 \udc00 Q3 2027",
        "2027-" * 20_000,  # 100 KB
        "de 2025 à " * 10_000,  # 100 KB, 10,000 ranges
        "fin " * 5_000 + "2027",
        "1 " * 10_000,
        "le 1er " * 3_000,
        "ǅ İ ẞ ﬁ ½ ² ⁰ ٢٠٢٧ ２０２７ " * 1000,
    ):
        mentions = find_dates(text, published=published)
        _check(text, mentions)
    assert find_dates("\x00" * 1000 + "en 2027", published=published, lang="fr")[0].text == "2027"
    assert find_dates(None, published=published) == []  # type: ignore[arg-type]
    assert find_dates("en 2027", published="2026") == []  # type: ignore[arg-type]
