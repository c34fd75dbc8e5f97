"""The `timeline` command, in process (CliRunner) and as a real process (faketime)."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from tests.conftest import IN_CI
from timeline.cli import app

TIMELINE = Path(sys.executable).parent / "timeline"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, milestones_config: Path) -> Path:
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(milestones_config))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def _dump(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _json(args: list[str]) -> object:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_json_shows_the_article_with_its_windows(env: Path) -> None:
    views = {v["id"]: v for v in _json(["list", "--json"])}  # type: ignore[union-attr]
    assert set(views) >= {"anthropic-us-construction", "microsoft-sweden", "google-iowa"}
    construction = views["anthropic-us-construction"]
    assert construction["kind"] == "span"
    assert construction["window"]["closes"]["start"] == "2027-01-01T00:00:00Z"
    assert construction["window"]["closes"]["end"] == "2028-01-01T00:00:00Z"
    assert construction["due_at"] == "2028-01-01T00:00:00Z"
    assert construction["attributes"]["investment_usd"] == 50_000_000_000


def test_preview_lists_without_changing_anything(env: Path) -> None:
    _run(["sync"])
    before = _dump(env / "cli.db")
    with freeze_time("2027-12-01"):
        planned = _json(["preview", "--until", "2028-02-01", "--json"])
    assert ("2028-01-01T00:00:00Z", "milestone.due:anthropic-us-construction:2028-01-01T00:00:00Z") in [
        (p["at"], p["key"])
        for p in planned  # type: ignore[union-attr]
    ]
    assert _dump(env / "cli.db") == before
    assert _json(["notices", "--json"]) == []


def test_preview_on_a_fresh_machine_creates_no_database(env: Path) -> None:
    _json(["preview", "--from", "2027-12-01", "--until", "2028-01-02", "--json"])
    assert not (env / "cli.db").exists()


def test_once_then_once_again_creates_the_due_notice_once(env: Path) -> None:
    with freeze_time("2027-12-31T23:59:59Z"):
        assert _json(["once", "--json"])["notices"] == []  # type: ignore[index]
    with freeze_time("2028-01-01T00:00:05Z"):
        created = _json(["once", "--json"])["notices"]  # type: ignore[index]
    assert [k for k in created if k.startswith("milestone.due")] == [
        "milestone.due:anthropic-us-construction:2028-01-01T00:00:00Z"
    ]
    with freeze_time("2028-01-01T00:00:09Z"):
        assert _json(["once", "--json"])["notices"] == []  # type: ignore[index]
    notices = _json(["notices", "--type", "milestone.due", "--json"])
    assert [n["key"] for n in notices] == ["milestone.due:anthropic-us-construction:2028-01-01T00:00:00Z"]  # type: ignore[union-attr]
    (notice,) = notices  # type: ignore[misc]
    headline = notice["payload"]["data"]["message"]["headline"]
    assert headline.endswith(" is due")
    with freeze_time("2028-01-01T00:00:09Z"):
        listing = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["notices", "--type", "milestone.due"]).output
    assert headline in listing
    assert "notice " in next(line for line in listing.splitlines() if "type" in line)  # the column's name


def test_sync_dry_run_prints_the_diff(env: Path, milestones_config: Path) -> None:
    folder = milestones_config
    _run(["sync"])
    path = folder / "milestones.yaml"
    path.write_text(path.read_text().replace("ends: 2027 ", "ends: 2028 "))
    result = CliRunner().invoke(app, ["sync", "--dry-run"])
    assert result.exit_code == 0
    assert "rescheduled anthropic-us-construction: end moved from 2027 to 2028 (+366 days)" in result.output
    assert _json(["sync", "--dry-run", "--json"])["changes"][0]["slip_days"] == 366  # type: ignore[index]


def test_bad_settings_name_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMELINE_SCAN_INTERVAL", "often")
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 2
    assert "TIMELINE_SCAN_INTERVAL" in result.output
    assert "'often' is not a duration" in result.output


def test_faketime_runs_create_one_due_notice(tmp_path: Path, milestones_config: Path) -> None:
    """The acceptance run of the due engine, as a user types it, with libfaketime."""
    faketime = shutil.which("faketime")
    if faketime is None:
        if IN_CI:
            pytest.fail("CI=true requires faketime (.ci/run installs it)")
        pytest.skip("faketime is not installed (apt-get install faketime)")
    env = os.environ | {
        "TIMELINE_CONFIG_DIR": str(milestones_config),
        "TIMELINE_DATABASE_URL": f"sqlite:///{tmp_path}/f.db",
    }
    created = []
    for moment in ("2027-12-31 23:59:59", "2028-01-01 00:00:05", "2028-01-01 00:00:09"):
        out = subprocess.run(
            [faketime, "-f", f"@{moment}", str(TIMELINE), "once", "--json"],
            env=env | {"TZ": "UTC"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        created.append([k for k in json.loads(out.stdout)["notices"] if k.startswith("milestone.due")])
    assert created == [[], ["milestone.due:anthropic-us-construction:2028-01-01T00:00:00Z"], []]
