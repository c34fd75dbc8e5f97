"""`timeline silences`: add, list (and --json), expire; bad values refused naming the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from timeline.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, milestones_config: Path) -> Path:
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(milestones_config))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def _run(args: list[str], code: int = 0) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return result.output


@freeze_time("2026-03-01T12:00:00Z")
def test_add_list_and_expire(env: Path) -> None:
    said = _run(["silences", "add", "--milestone", "google-iowa", "--until", "7d", "--reason", "renegotiated"])
    assert "google-iowa muted until 8 Mar 2026, 12:00 UTC" in said
    _run(["silences", "add", "--tag", "us", "--type", "milestone.overdue", "--until", "2026-04-01", "--reason", "x"])
    listed = json.loads(_run(["silences", "--json"]))
    assert [(s["subject"], s["tag"], s["types"], s["ends_at"]) for s in listed] == [
        ("google-iowa", None, "*", "2026-03-08T12:00:00Z"),
        (None, "us", "milestone.overdue", "2026-04-01T00:00:00Z"),
    ]
    table = _run(["silences"])
    assert "2 silences" in table
    assert "tag us, milestone.overdue notices" in table
    ended = _run(["silences", "expire", listed[0]["id"]])
    assert f"{listed[0]['id']}: milestone google-iowa no longer muted" in ended
    assert [s["id"] for s in json.loads(_run(["silences", "--json"]))] == [listed[1]["id"]]
    assert len(json.loads(_run(["silences", "--all", "--json"]))) == 2


@freeze_time("2026-03-01T12:00:00Z")
def test_bad_values_are_refused_naming_the_option(env: Path) -> None:
    said = _run(["silences", "add", "--milestone", "m", "--until", "someday", "--reason", "x"], code=2)
    assert "--until" in said and "7d" in said
    said = _run(["silences", "add", "--until", "7d", "--reason", "x"], code=1)
    assert "--milestone: name either a milestone or a tag" in said
    said = _run(["silences", "expire", "sil_nope"], code=1)
    assert "no silence 'sil_nope'" in said
    assert "No silences hold now" in _run(["silences"])


def test_an_email_subscription_from_the_command_line(env: Path) -> None:
    said = _run(["subscriptions", "add", "--format", "email", "--to", "ops@example.org,cto@example.org"])
    assert "-> ops@example.org, cto@example.org" in said
    assert "secret" not in said
    listed = json.loads(_run(["subscriptions", "list", "--json"]))
    assert [(s["format"], s["to"]) for s in listed] == [("email", ["ops@example.org", "cto@example.org"])]
    said = _run(["subscriptions", "add", "--format", "email", "--to", "ops.example.org"], code=1)
    assert "error: to: 'ops.example.org' is not an email address" in said
