"""What a person sees of `timeline` at 80 columns: help, version, completion, tables, plurals, empty
listings that say why, and options that behave (repeated values kept, globs, refused ranges)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from timeline import __version__
from timeline.cli import app

TIMELINE = Path(sys.executable).parent / "timeline"
LONG_ID = "anthropic-us-construction-phase-two-of-the-wisconsin-campus"
LONG_TITLE = (
    "Second phase of construction of Anthropic's data centre campus in Wisconsin, with its own power "
    "station and a training cluster"
)
MILESTONES = f"""milestones:
  - id: {LONG_ID}
    title: {LONG_TITLE}
    when: 2027-Q2
  - id: tomorrow
    title: Due tomorrow
    when: 2026-03-02
  - id: x
    title: Short
    starts: 2025
    ends: 2026-01
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "milestones.yaml").write_text(MILESTONES)
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COLUMNS", "80")
    return folder


def _invoke(args: list[str], code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


def _plain(output: str) -> str:
    """Text without Rich's box drawing, on one line."""
    return " ".join(output.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TIMELINE), *args],
        env=os.environ | {"COLUMNS": "80"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_has_no_type_markers_and_fits_80_columns() -> None:
    for args in (["--help"], ["subscriptions", "add", "--help"], ["preview", "--help"], ["feeds", "import", "--help"]):
        shown = _run(args)
        assert shown.returncode == 0, shown.stderr
        assert not re.search(r"<(bool|str|int|float|path|Path|list\[\w+\])>", shown.stdout), shown.stdout
        assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    top = _run(["--help"]).stdout
    assert "--version" in top and "--install-completion" in top and "--show-completion" in top
    assert re.search(r"--until\s+DATE", _run(["preview", "--help"]).stdout)


def test_version() -> None:
    shown = _run(["--version"])
    assert shown.returncode == 0 and shown.stdout == f"timeline-alerts {__version__}\n"


def test_shell_completion_completes_commands(tmp_path: Path) -> None:
    completed = _run([], _TIMELINE_COMPLETE="complete_bash", COMP_WORDS="timeline subs", COMP_CWORD="1")
    assert completed.returncode == 0
    assert "subscriptions" in completed.stdout.split()
    nested = _run([], _TIMELINE_COMPLETE="complete_bash", COMP_WORDS="timeline feeds ex", COMP_CWORD="2")
    assert nested.stdout.split() == ["export"]


def test_completion_can_be_shown_and_installed(tmp_path: Path) -> None:
    """As a person would type it in bash (the shell is found by looking at the parent process)."""
    home = tmp_path / "home"
    home.mkdir()
    env = os.environ | {"HOME": str(home), "SHELL": "/bin/bash"}
    shown = subprocess.run(
        ["bash", "-c", f"{TIMELINE} --show-completion"], env=env, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert "_TIMELINE_COMPLETE=complete_bash" in shown.stdout
    installed = subprocess.run(
        ["bash", "-c", f"{TIMELINE} --install-completion"], env=env, capture_output=True, text=True, timeout=60
    )
    assert installed.returncode == 0, installed.stderr
    script = home / ".bash_completions" / "timeline.sh"
    assert "_TIMELINE_COMPLETE=complete_bash" in script.read_text()
    assert f"source '{script}'" in (home / ".bashrc").read_text()


def test_help_loads_neither_the_database_nor_the_http_stacks() -> None:
    """`timeline --help` stays fast: it imports no SQLAlchemy, aiohttp, FastAPI, pydantic or YAML."""
    code = (
        "import sys\n"
        "sys.argv = ['timeline', '--help']\n"
        "from timeline.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('sqlalchemy', 'aiohttp', 'fastapi', 'uvicorn', 'pydantic', 'ruamel', 'feedparser', 'alembic')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stderr.strip().splitlines()[-1] == "[]"


def _fit(out: str, width: int = 80) -> list[str]:
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width, out
    return lines


def test_list_at_80_columns_keeps_every_id_whole_and_shows_titles(env: Path) -> None:
    """An id of 60 characters leaves no room for a table at 80 columns: each milestone is a block,
    its id whole on its own line, its title wrapped below."""
    with freeze_time("2026-03-01T12:00:00Z"):
        out, _ = _invoke(["list"])
    lines = _fit(out)
    assert LONG_ID in lines
    assert all(line == line.rstrip() for line in lines), "blocks carry no trailing spaces"
    assert "…" not in out
    text = " ".join(line.strip() for line in lines)
    assert f"title: {LONG_TITLE}" in text
    assert "deadline: due 3 Mar 2026, in 2 days status: planned" in text
    assert "deadline: overdue by 28 days" in text


def test_list_is_a_table_where_there_is_room(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    with freeze_time("2026-03-01T12:00:00Z"):
        out, _ = _invoke(["list"])
    lines = _fit(out, 160)
    header = next(line for line in lines if "┃ id" in line)
    assert [h.strip() for h in header.strip("┃").split("┃")] == ["id", "title", "window", "deadline", "status"]
    row = next(line for line in lines if f"│ {LONG_ID} " in line)
    assert "2027-Q2" in row and "due 1 Jul 2027, in 487 days" in row


def test_the_shipped_timeline_at_80_columns(tmp_path: Path, milestones_config: Path) -> None:
    shown = _run(
        ["list"],
        TIMELINE_CONFIG_DIR=str(milestones_config),
        TIMELINE_DATABASE_URL=f"sqlite:///{tmp_path / 'shipped.db'}",
    )
    assert shown.returncode == 0, shown.stderr
    lines = _fit(shown.stdout)
    for mid in ("anthropic-us-construction", "anthropic-construction-start", "microsoft-sweden", "google-iowa"):
        assert any(mid in line.split() or line.strip() == mid for line in lines), mid
    assert "Construction of Anthropic's US data centres" in shown.stdout


def test_an_empty_notices_listing_says_why_and_what_to_try(env: Path) -> None:
    with freeze_time("2026-03-01T12:00:00Z"):
        out, _ = _invoke(["notices"])
    assert "No notices yet." in out
    assert "TIMELINE_NOTIFY_PAST" in out
    assert "timeline preview --until 2027-03-01" in out
    with freeze_time("2026-03-01T12:00:00Z"):
        filtered, _ = _invoke(["notices", "--type", "feed.*", "--since", "2026-01"])
    assert "No notices of type feed.* and since 1 Jan 2026." in filtered
    assert max(len(line) for line in out.splitlines()) <= 80


def test_notices_type_takes_globs_like_subscriptions(env: Path) -> None:
    with freeze_time("2026-03-01T12:00:00Z"):
        _invoke(["once"])
    with freeze_time("2026-03-02T00:00:01Z"):
        _invoke(["once"])
    with freeze_time("2026-03-03T00:00:01Z"):
        _invoke(["once"])
    every = json.loads(_invoke(["notices", "--json"])[0])
    assert {n["type"] for n in every} >= {"milestone.due", "milestone.window_opened"}
    due = json.loads(_invoke(["notices", "--type", "milestone.due", "--json"])[0])
    assert {n["type"] for n in due} == {"milestone.due"}
    globbed = json.loads(_invoke(["notices", "--type", "milestone.*", "--json"])[0])
    assert sorted(n["key"] for n in globbed) == sorted(n["key"] for n in every if n["type"].startswith("milestone."))
    repeated = json.loads(_invoke(["notices", "--type", "*.due", "--type", "milestone.window_*", "--json"])[0])
    assert {n["type"] for n in repeated} == {"milestone.due", "milestone.window_opened"}
    assert json.loads(_invoke(["notices", "--type", "feed.*", "--json"])[0]) == []
    table, _ = _invoke(["notices", "--type", "milestone.*"])
    assert "tomorrow" in table and max(len(line) for line in table.splitlines()) <= 80


def test_preview_refuses_an_end_before_its_start(env: Path) -> None:
    result = CliRunner().invoke(app, ["preview", "--from", "2027-01-01", "--until", "2026-06-01"])
    assert result.exit_code == 2
    assert "2026-06-01 is not after the start (1 Jan 2027)" in _plain(result.output)
    with freeze_time("2026-03-01T12:00:00Z"):
        now = CliRunner().invoke(app, ["preview", "--until", "2026-01-01"])
    assert now.exit_code == 2 and "is not after the start (1 Mar 2026, now)" in _plain(now.output)


def test_preview_says_when_it_starts_later_than_asked(env: Path) -> None:
    with freeze_time("2026-03-01T12:00:00Z"):
        _invoke(["sync"])
        result = CliRunner().invoke(app, ["preview", "--from", "2025-01-01", "--until", "2026-04-01", "--json"])
    assert result.exit_code == 0
    planned = json.loads(result.stdout)
    assert all(p["at"] >= "2026-03-01T12:00:00Z" for p in planned)
    assert "Asked from 1 Jan 2025, 00:00 UTC; shown from 1 Mar 2026, 12:00 UTC, when these 3 milestones" in (
        result.stderr
    )
    assert "TIMELINE_NOTIFY_PAST=true" in result.stderr
    with freeze_time("2026-03-01T12:00:00Z"):
        asked_later, err = _invoke(["preview", "--from", "2026-03-02", "--until", "2026-04-01"])
    assert err == "" and "Notices from 2 Mar 2026 to 1 Apr 2026" in asked_later


def test_subscription_options_accumulate_when_repeated(env: Path) -> None:
    out, _ = _invoke(
        [
            "subscriptions",
            "add",
            "https://hooks.example.com/a",
            "--events",
            "milestone.*",
            "--events",
            "feed.*,test.ping",
            "--tags",
            "anthropic",
            "--tags",
            "us",
            "--milestones",
            "tomorrow",
            "--milestones",
            "x",
            "--json",
        ]
    )
    created = json.loads(out)["subscription"]
    assert created["events"] == ["milestone.*", "feed.*", "test.ping"]
    assert created["tags"] == ["anthropic", "us"]
    assert created["subjects"] == ["tomorrow", "x"]
    default = json.loads(_invoke(["subscriptions", "add", "https://hooks.example.com/b", "--json"])[0])
    assert default["subscription"]["events"] == ["*"]
    listing, _ = _invoke(["subscriptions", "list"])
    assert "2 subscriptions" in listing and created["id"] in listing
    removed, _ = _invoke(["subscriptions", "remove", created["id"]])
    assert removed.strip() == f"removed {created['id']} (0 pending deliveries cancelled)"
