"""What each expression of the brief reads as, in each language, with its exact window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from timeline.dates import parse_window
from timeline.evidence import About, find_dates

PUBLISHED = date(2026, 3, 14)


def read(text: str, lang: str | None = None, published: date | datetime = PUBLISHED) -> list[tuple[str, str]]:
    return [(m.text, m.when) for m in find_dates(text, published=published, lang=lang)]


@pytest.mark.parametrize(
    ("lang", "text", "phrase", "when"),
    [
        ("fr", "Mise en service au second semestre 2027.", "second semestre 2027", "2027-H2"),
        ("en", "Deliveries in H2 2027.", "H2 2027", "2027-H2"),
        ("en", "Output doubles in the 2nd half of 2027.", "2nd half of 2027", "2027-H2"),
        ("de", "Im zweiten Halbjahr 2027 startet der Betrieb.", "zweiten Halbjahr 2027", "2027-H2"),
        ("es", "Abrirá en el segundo semestre de 2027.", "segundo semestre de 2027", "2027-H2"),
        ("fr", "Résultats du T3 2027 publiés.", "T3 2027", "2027-Q3"),
        ("en", "Launch in Q3 2027.", "Q3 2027", "2027-Q3"),
        ("en", "In the third quarter of 2027 sales rose.", "third quarter of 2027", "2027-Q3"),
        ("fr", "Livraison au troisième trimestre 2027.", "troisième trimestre 2027", "2027-Q3"),
        ("de", "Im zweiten Quartal 2028 geht sie ans Netz.", "zweiten Quartal 2028", "2028-Q2"),
        ("es", "Se licitará en el tercer trimestre de 2027.", "tercer trimestre de 2027", "2027-Q3"),
        ("en", "The plant opens in September 2027.", "September 2027", "2027-09"),
        ("fr", "Ouverture en sept. 2027.", "sept. 2027", "2027-09"),
        ("fr", "Les travaux reprennent en septembre 2027.", "septembre 2027", "2027-09"),
        ("de", "Im September 2027 ist es so weit.", "September 2027", "2027-09"),
        ("en", "It opens on 15 September 2027.", "15 September 2027", "2027-09-15"),
        ("en", "It opens on September 15, 2027.", "September 15, 2027", "2027-09-15"),
        ("fr", "Il ouvrira le 15 septembre 2027.", "15 septembre 2027", "2027-09-15"),
        ("de", "Eröffnung am 15. September 2027.", "15. September 2027", "2027-09-15"),
        ("es", "Abrirá el 15 de septiembre de 2027.", "15 de septiembre de 2027", "2027-09-15"),
        ("en", "Filed on 2027-09-15 with the SEC.", "2027-09-15", "2027-09-15"),
        ("fr", "Audience fixée au 15/09/2027.", "15/09/2027", "2027-09-15"),
        ("de", "Termin: 15.09.2027.", "15.09.2027", "2027-09-15"),
        ("en", "The deadline is 09/15/2027.", "09/15/2027", "2027-09-15"),
        ("fr", "Le 1er janvier 2028, tout change.", "1er janvier 2028", "2028-01-01"),
        ("en", "The plant opens in summer 2027.", "summer 2027", "2027-06..2027-08"),
        ("fr", "Réouverture à l’été 2027.", "été 2027", "2027-06..2027-08"),
        ("de", "Im Sommer 2027 fährt der Zug.", "Sommer 2027", "2027-06..2027-08"),
        ("es", "Abrirá en verano de 2027.", "verano de 2027", "2027-06..2027-08"),
        ("fr", "Travaux prévus au printemps 2027.", "printemps 2027", "2027-03..2027-05"),
        ("en", "Work resumes in the autumn of 2027.", "autumn of 2027", "2027-09..2027-11"),
        ("fr", "Fermeture pendant l’hiver 2027.", "hiver 2027", "2027-12..2028-02"),
        ("fr", "Coupure prévue pendant l’hiver 2026-2027.", "hiver 2026-2027", "2026-12..2027-02"),
    ],
)
def test_each_kind_of_period_reads_as_its_window(lang: str, text: str, phrase: str, when: str) -> None:
    assert read(text, lang) == [(phrase, when)]
    assert read(text) == [(phrase, when)]  # the language detected from the text reads the same


@pytest.mark.parametrize(
    ("lang", "text", "when"),
    [
        ("fr", "Livraison début 2027.", "2027-01..2027-04"),
        ("fr", "Livraison mi-2027.", "2027-05..2027-08"),
        ("fr", "Livraison fin 2027.", "2027-09..2027-12"),
        ("en", "Delivery in early 2027.", "2027-01..2027-04"),
        ("en", "Delivery in mid-2027.", "2027-05..2027-08"),
        ("en", "Delivery in late 2027.", "2027-09..2027-12"),
        ("en", "Delivery at the end of 2027.", "2027-09..2027-12"),
        ("de", "Lieferung Anfang 2028.", "2028-01..2028-04"),
        ("de", "Lieferung Mitte 2028.", "2028-05..2028-08"),
        ("de", "Lieferung Ende 2028.", "2028-09..2028-12"),
        ("es", "Entrega a principios de 2027.", "2027-01..2027-04"),
        ("es", "Entrega a mediados de 2027.", "2027-05..2027-08"),
        ("es", "Entrega a finales de 2027.", "2027-09..2027-12"),
        ("fr", "Vote fin mars 2027.", "2027-03-21..2027-03-31"),
        ("fr", "Vote début juin 2027.", "2027-06-01..2027-06-10"),
        ("en", "Vote in mid-June 2027.", "2027-06-11..2027-06-20"),
        ("de", "Ende Februar 2028 fällt die Entscheidung.", "2028-02-21..2028-02-29"),
        ("en", "Orders in late Q3 2027.", "2027-09..2027-09"),
        ("fr", "Au début du second semestre 2027.", "2027-07..2027-08"),
        ("en", "In the early 2030s.", "2030..2033"),
        ("de", "Mitte der 2030er Jahre.", "2034..2036"),
        ("fr", "À la fin de l’été 2027.", "2027-08..2027-08"),
    ],
)
def test_early_mid_and_late_are_thirds_of_their_period(lang: str, text: str, when: str) -> None:
    [(_, found)] = read(text, lang)
    first, _, last = when.partition("..")
    assert (parse_window(found.split("..")[0]).start, parse_window(found.split("..")[-1]).end) == (
        parse_window(first).start,
        parse_window(last).end,
    )


@pytest.mark.parametrize(
    ("lang", "text", "published", "when"),
    [
        ("fr", "Le chantier reprendra l’an prochain.", date(2026, 3, 14), "2027"),
        ("fr", "Ouverture l’année prochaine.", date(2026, 12, 31), "2027"),
        ("en", "The plant opens next year.", date(2026, 1, 1), "2027"),
        ("de", "Nächstes Jahr beginnt der Bau.", date(2026, 6, 1), "2027"),
        ("es", "El próximo año abrirá la planta.", date(2026, 6, 1), "2027"),
        ("es", "Abrirá el año que viene.", date(2026, 6, 1), "2027"),
        ("fr", "Les ventes ont chuté cette année.", date(2026, 6, 1), "2026"),
        ("en", "Sales fell this year.", date(2026, 6, 1), "2026"),
        ("de", "Im vergangenen Jahr stieg der Umsatz.", date(2026, 6, 1), "2025"),
        ("fr", "Livraison en juillet prochain.", date(2026, 3, 14), "2026-07"),
        ("fr", "Livraison en juillet prochain.", date(2026, 7, 10), "2027-07"),
        ("en", "Deliveries start next July.", date(2026, 8, 1), "2027-07"),
        ("de", "Im kommenden Juli soll es losgehen.", date(2026, 12, 18), "2027-07"),
        ("es", "Abrirá el próximo julio.", date(2026, 12, 18), "2027-07"),
        ("fr", "Les ventes de juillet dernier.", date(2026, 7, 20), "2025-07"),
        ("en", "Sales rose last month.", date(2026, 1, 10), "2025-12"),
        ("fr", "Résultats le mois prochain.", date(2026, 12, 10), "2027-01"),
        ("en", "Results are due next quarter.", date(2026, 11, 10), "2027-Q1"),
        ("fr", "Décision cet été.", date(2026, 10, 1), "2026-06..2026-08"),
        ("en", "Work starts next spring.", date(2026, 9, 8), "2027-03..2027-05"),
        ("fr", "Le vote aura lieu fin d’année.", date(2026, 5, 1), "2026-09..2026-12"),
        ("en", "Closing is expected by the end of next year.", date(2026, 5, 1), "2027-09..2027-12"),
        ("es", "Estará listo a principios del próximo año.", date(2026, 5, 1), "2027-01..2027-04"),
        ("de", "Anfang nächsten Jahres tritt es in Kraft.", date(2026, 11, 1), "2027-01..2027-04"),
        ("en", "More hires later this year.", date(2026, 10, 15), "2026-10-15..2026-12-31"),
    ],
)
def test_relative_dates_are_placed_against_the_publication_date(
    lang: str, text: str, published: date, when: str
) -> None:
    assert [w for _, w in read(text, lang, published)] == [when]


@pytest.mark.parametrize(
    ("text", "lang", "published", "when"),
    [
        ("Le tribunal statuera le 3 juillet.", "fr", date(2026, 6, 5), "2026-07-03"),
        ("The vote was held on March 3.", "en", date(2026, 3, 20), "2026-03-03"),
        ("Signé le 28 décembre, le contrat court trois ans.", "fr", date(2027, 1, 4), "2026-12-28"),
        ("Der Vertrag wurde am 2. Januar unterzeichnet.", "de", date(2026, 12, 20), "2027-01-02"),
        ("Las ventas cayeron en diciembre.", "es", date(2026, 1, 13), "2025-12"),
        ("Airbus a livré 72 avions en août.", "fr", date(2025, 9, 16), "2025-08"),
        ("The company cut jobs in the first quarter.", "en", date(2026, 4, 30), "2026-Q1"),
        ("La production démarrera au second semestre.", "fr", date(2026, 3, 14), "2026-H2"),
        ("La empresa perdió dinero en el primer semestre.", "es", date(2026, 9, 8), "2026-H1"),
    ],
)
def test_a_date_without_its_year_is_its_nearest_occurrence(text: str, lang: str, published: date, when: str) -> None:
    assert [w for _, w in read(text, lang, published)] == [when]


def test_the_future_picks_the_occurrence_still_to_come() -> None:
    # 15 September is nearer in 2025 than in 2026 from 1 March 2026, but "sera signé" looks ahead
    assert read("Le contrat a été signé le 15 septembre.", "fr", date(2026, 3, 1)) == [("15 septembre", "2025-09-15")]
    assert read("Le contrat sera signé le 15 septembre.", "fr", date(2026, 3, 1)) == [("15 septembre", "2026-09-15")]
    # only the clause of the date counts: "announced in July" is past though the merger "is expected"
    found = read("The merger, announced in July, is expected to close in the fourth quarter.", "en", date(2026, 9, 2))
    assert found == [("July", "2026-07"), ("fourth quarter", "2026-Q4")]


@pytest.mark.parametrize(
    ("lang", "text", "phrase", "when"),
    [
        ("en", "From 2025 to 2027, the company invests.", "From 2025 to 2027", "2025..2027"),
        ("fr", "Le projet s’étendra de 2025 à 2027.", "de 2025 à 2027", "2025..2027"),
        ("en", "The 2025-2027 plan.", "2025-2027", "2025..2027"),
        ("en", "The 2025–2027 plan.", "2025–2027", "2025..2027"),
        ("fr", "Entre 2025 et 2027, le trafic a doublé.", "Entre 2025 et 2027", "2025..2027"),
        ("de", "Von 2025 bis 2027 wird gebaut.", "Von 2025 bis 2027", "2025..2027"),
        ("es", "Entre 2021 y 2025 las ventas crecieron.", "Entre 2021 y 2025", "2021..2025"),
        ("es", "Del 3 al 6 de septiembre de 2027.", "Del 3 al 6 de septiembre de 2027", "2027-09-03..2027-09-06"),
        ("fr", "Du 3 au 5 mai 2027 à Paris.", "Du 3 au 5 mai 2027", "2027-05-03..2027-05-05"),
        ("en", "On May 3-5, 2027 in Austin.", "May 3-5, 2027", "2027-05-03..2027-05-05"),
        ("fr", "Travaux de juin à septembre 2027.", "de juin à septembre 2027", "2027-06..2027-09"),
        ("en", "From late 2026 to early 2028.", "From late 2026 to early 2028", "2026-09..2028-04"),
        ("en", "From Q3 2026 to Q1 2027.", "From Q3 2026 to Q1 2027", "2026-Q3..2027-Q1"),
        ("de", "Die Saison 2026/27 beginnt.", "2026/27", "2026..2027"),
        ("fr", "Le sommet se tiendra les 18 et 19 décembre 2026.", "18 et 19 décembre 2026", "2026-12-18..2026-12-19"),
        ("fr", "Dans les années 2030, la demande doublera.", "les années 2030", "2030..2039"),
        ("en", "Demand doubles in the 2030s.", "2030s", "2030..2039"),
        ("es", "Terminada en la década de 2030.", "la década de 2030", "2030..2039"),
    ],
)
def test_ranges_span_from_the_first_end_to_the_last(lang: str, text: str, phrase: str, when: str) -> None:
    assert read(text, lang) == [(phrase, when)]


def test_a_range_without_years_is_placed_as_one() -> None:
    # January is nearer in 2027 than in 2026 from 3 November 2026, but "January to September" is 2026
    assert read("Zwischen Januar und September stiegen die Preise.", "de", date(2026, 11, 3)) == [
        ("Zwischen Januar und September", "2026-01..2026-09")
    ]


@pytest.mark.parametrize(
    ("lang", "text", "when", "about"),
    [
        ("fr", "La phase de construction s’étale jusqu’en 2027.", "2027", About.END),
        ("en", "The program runs through 2027.", "2027", About.END),
        ("en", "Construction will wrap up by the end of 2027.", "2027-09..2027-12", About.END),
        ("fr", "La fibre partout d’ici 2027.", "2027", About.END),
        ("fr", "La fibre partout d’ici fin 2027.", "2027-09..2027-12", About.END),
        ("de", "Der Ausbau dauert bis 2027.", "2027", About.END),
        ("es", "Las obras durarán hasta 2027.", "2027", About.END),
        ("fr", "À partir de 2027, la règle change.", "2027", About.START),
        ("de", "Ab 2027 gilt die Regel.", "2027", About.START),
        ("en", "Since 2019, sales doubled.", "2019", About.START),
    ],
)
def test_deadlines_and_beginnings_are_the_window_they_name(lang: str, text: str, when: str, about: About) -> None:
    [mention] = find_dates(text, published=PUBLISHED, lang=lang)
    assert (mention.when, mention.about) == (when, about)


def test_before_a_date_runs_from_publication_to_the_day_before_unless_negated() -> None:
    [m] = find_dates("La décision sera rendue avant 2028.", published=date(2026, 3, 14), lang="fr")
    assert (m.when, m.about) == ("2026-03-14..2027-12-31", About.END)
    [m] = find_dates("La ligne ne sera pas achevée avant 2027.", published=date(2026, 3, 14), lang="fr")
    assert (m.when, m.about) == ("2027", About.END)
    [m] = find_dates("The tunnel won't open before the end of 2030.", published=PUBLISHED, lang="en")
    assert m.when == "2030-09..2030-12"


def test_a_moved_date_is_two_dates_not_a_range() -> None:
    assert read("Deliveries were pushed from Q4 2026 to the spring of 2027.", "en") == [
        ("Q4 2026", "2026-Q4"),
        ("spring of 2027", "2027-03..2027-05"),
    ]
    assert read("El proyecto se ha retrasado de 2026 a 2028.", "es") == [("2026", "2026"), ("2028", "2028")]
    assert read("The launch has slipped from June to September.", "en", date(2026, 3, 13)) == [
        ("June", "2026-06"),
        ("September", "2026-09"),
    ]


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("fr", "Anthropic engage 50 milliards de dollars."),
        ("fr", "Le groupe emploie 3 200 personnes."),
        ("en", "The company cut 3,200 jobs."),
        ("en", "A 1,200 MW plant."),
        ("de", "Der Konzern schafft 1.500 Arbeitsplätze."),
        ("en", "Windows 11 is installed."),
        ("en", "Section 230 shields platforms."),
        ("en", "About 2,025 people attended."),
        ("en", "The iPhone 15 sold well."),
        ("en", "See page 2027 of the report."),
        ("en", "A 2027 MW project."),
        ("fr", "Le site compte 2 027 salariés."),
        ("en", "It costs €2,030."),
        ("en", "The plant has 2030 employees."),
        ("en", "A Boeing 737 landed."),
        ("en", "GPT-4 was trained on GPUs."),
        ("en", "COVID-19 closed schools."),
        ("fr", "Microsoft investit 3.3 milliards en Suède."),
        ("fr", "Google investit 1,5 milliard dans l’Iowa."),
        ("fr", "Entre 2000 et 2100 salariés sont concernés."),
        ("de", "Mehr als 2000 Demonstranten zogen durch die Stadt."),
        ("es", "Unas 2030 familias siguen sin luz."),
        ("fr", "L’euro valait 1,2027 dollar."),
        ("fr", "La loi n° 2023-1322 a été votée."),
        ("en", "Audi Q3 sales rose."),
        ("fr", "Un T3 de 70 m² à louer."),
        ("en", "Hydrogen (H2) costs fell."),
        ("fr", "Le taux passe à 20,27 %."),
        ("en", "The 1,900-megawatt plant."),
        ("en", "The RTX 2080 is discontinued."),
    ],
)
def test_amounts_counts_units_versions_and_names_are_not_dates(lang: str, text: str) -> None:
    assert read(text, lang) == []
    assert read(text) == []


def test_months_alone_need_a_preposition_and_english_months_a_capital() -> None:
    assert read("Juillet sera décisif pour le groupe.", "fr") == []
    assert read("Prices may rise.", "en") == []
    assert read("Troops march on the capital.", "en") == []
    assert read("La mission vers Mars décollera.", "fr") == []
    assert read("Sales fell in May.", "en", date(2026, 6, 1)) == [("May", "2026-05")]


def test_spans_are_the_phrase_as_written() -> None:
    text = "Les travaux débuteront en 2025 avec une phase de construction s’étalant jusqu’en 2027."
    found = find_dates(text, published=PUBLISHED, lang="fr")
    assert [(m.text, text[m.span[0] : m.span[1]], m.about) for m in found] == [
        ("2025", "2025", About.START),
        ("jusqu’en 2027", "jusqu’en 2027", About.END),
    ]


@pytest.mark.parametrize(
    ("lang", "text", "about"),
    [
        ("en", "Construction begins in 2027.", About.START),
        ("fr", "La construction débute en 2027.", About.START),
        ("de", "Der Bau beginnt 2027.", About.START),
        ("es", "La construcción comienza en 2027.", About.START),
        ("en", "Construction will wrap up in 2027.", About.END),
        ("fr", "L’achèvement est prévu en 2027.", About.END),
        ("de", "Die Fertigstellung ist für 2027 geplant.", About.END),
        ("es", "La finalización está prevista en 2027.", About.END),
        ("fr", "Anthropic repousse à 2028 l’achèvement du campus.", About.END),
        ("en", "Revenue grew in 2027.", About.UNSPECIFIED),
    ],
)
def test_what_a_date_is_about(lang: str, text: str, about: About) -> None:
    [mention] = find_dates(text, published=PUBLISHED, lang=lang)
    assert mention.about is about


def test_language_tags_and_unknown_languages() -> None:
    assert read("Livraison en septembre 2027.", "fr-FR") == [("septembre 2027", "2027-09")]
    assert read("Delivery in September 2027.", "en_US") == [("September 2027", "2027-09")]
    assert read("Consegna nel settembre 2027.", "it") == [("2027", "2027")]  # detected, read as it can
    assert read("Q3 2027") == [("Q3 2027", "2027-Q3")]


def test_the_publication_date_may_be_a_datetime_in_any_zone() -> None:
    late = datetime(2026, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 2027-01-01 04:30 UTC
    assert read("Sales doubled this year.", "en", late) == [("this year", "2027")]
    assert read("Sales doubled this year.", "en", datetime(2026, 6, 1)) == [("this year", "2026")]


def test_a_mention_speaks_the_milestone_vocabulary() -> None:
    [m] = find_dates("Ouverture à l’été 2027.", published=PUBLISHED, lang="fr")
    assert m.when == "2027-06..2027-08"
    assert (m.schedule.opens.text, m.schedule.closes.text, m.schedule.due_at) == (
        "2027-06",
        "2027-08",
        datetime(2027, 9, 1, tzinfo=UTC),
    )
    assert m.as_json() == {"text": "été 2027", "start": "2027-06-01T00:00:00Z", "end": "2027-09-01T00:00:00Z"}
    assert m.overlaps(parse_window("2027-Q3")) and not m.overlaps(parse_window("2027-Q4"))
