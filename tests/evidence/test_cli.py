"""`timeline dates TEXT... --lang L --published DATE --json`."""

from __future__ import annotations

import json
import subprocess
import sys

from freezegun import freeze_time
from typer.testing import CliRunner

from timeline.cli import app

SEED = "Les travaux débuteront en 2025 avec une phase de construction s’étalant jusqu’en 2027."


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["dates", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_has_one_array_per_text_of_text_start_end() -> None:
    code, out, _ = run(SEED, "Anthropic engage 50 milliards de dollars.", "--published", "2026-03-14", "--json")
    assert code == 0
    assert json.loads(out) == [
        [
            {"text": "2025", "start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            {"text": "jusqu’en 2027", "start": "2027-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"},
        ],
        [],
    ]


def test_lang_and_published_place_relative_dates() -> None:
    code, out, _ = run("Ouverture l’an prochain, en juillet.", "--lang", "fr", "--published", "2026-09-01", "--json")
    assert code == 0
    assert json.loads(out) == [
        [
            {"text": "l’an prochain", "start": "2027-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"},
            {"text": "juillet", "start": "2026-07-01T00:00:00Z", "end": "2026-08-01T00:00:00Z"},
        ]
    ]
    code, out, _ = run("Sales rose this year.", "--published", "2026-12-31T23:00:00-05:00", "--json")
    assert json.loads(out)[0][0]["start"] == "2027-01-01T00:00:00Z"


@freeze_time("2031-05-02 10:00:00")
def test_published_defaults_to_today() -> None:
    code, out, _ = run("Next year, the line opens.", "--json")
    assert code == 0
    assert json.loads(out) == [[{"text": "Next year", "start": "2032-01-01T00:00:00Z", "end": "2033-01-01T00:00:00Z"}]]


def test_the_human_table_names_phrase_window_days_and_what_it_is_about() -> None:
    code, out, _ = run(SEED, "Anthropic engage 50 milliards de dollars.", "--published", "2026-03-14")
    assert code == 0
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0].startswith("Les travaux débuteront en 2025")
    assert lines[1].split() == ["phrase", "window", "from", "to", "(inclusive)", "about"]
    assert lines[2].split() == ["2025", "2025", "1", "Jan", "2025", "31", "Dec", "2025", "start"]
    assert lines[3].split() == ["jusqu’en", "2027", "2027", "1", "Jan", "2027", "31", "Dec", "2027", "end"]
    assert "Anthropic engage 50 milliards de dollars." in out
    assert lines[-1].strip() == "no date found"
    assert all(len(line) <= 80 for line in lines)


def test_a_language_not_read_is_refused_with_the_choices() -> None:
    code, _, err = run("en 2027", "--lang", "klingon")
    assert code == 2
    assert "'klingon' is not a language read here" in err and "fr, en, de, es" in err


def test_a_publication_date_that_is_not_a_date_is_refused() -> None:
    code, _, err = run("en 2027", "--published", "2026-13")
    assert code == 2
    assert "'2026-13' is not a date" in err


def test_hostile_texts_beside_good_ones() -> None:
    code, out, _ = run("\x00\x00 Q3 2027 \x00", "", "x" * 20_000, "fin 2027", "--published", "2026-01-01", "--json")
    assert code == 0
    assert [[m["text"] for m in found] for found in json.loads(out)] == [["Q3 2027"], [], [], ["fin 2027"]]


def test_the_installed_command_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from timeline.entry import main; main()", "dates", "Q3 2027", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    quarter = {"text": "Q3 2027", "start": "2027-07-01T00:00:00Z", "end": "2027-10-01T00:00:00Z"}
    assert json.loads(done.stdout) == [[quarter]]
