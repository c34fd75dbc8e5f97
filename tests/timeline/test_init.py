"""Starting anywhere (#21 item 1): `timeline init` writes a starter folder from the package, and a
command run where there is no milestones.yaml says where it looked, exits 2 and creates nothing."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from typer.testing import CliRunner

from timeline.cli import app
from timeline.settings import Settings

REPO = Path(__file__).resolve().parents[2]
STARTER = files("timeline") / "starter"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder outside the repository, with no TIMELINE_* variable set."""
    for name in ("TIMELINE_CONFIG_DIR", "TIMELINE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.mark.parametrize(
    "args",
    [
        ["list"],
        ["check"],
        ["sync", "--dry-run"],
        ["notices"],
        ["once"],
        ["preview", "--until", "2030"],
        ["feeds"],
        ["deliveries"],
        ["db", "upgrade"],
    ],
)
def test_a_command_without_a_config_folder_says_where_it_looked_and_creates_nothing(
    workdir: Path, args: list[str]
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"no milestones.yaml in {workdir / 'config'} (TIMELINE_CONFIG_DIR is not set, so the folder `config` in "
        "the current directory).\nRun `timeline init config` to write a starter folder there, or set "
        "TIMELINE_CONFIG_DIR to the folder that holds your milestones.yaml.\n"
    )
    assert list(workdir.iterdir()) == []


def test_a_config_dir_that_holds_no_milestones_is_named(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(workdir / "plans"))
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 2
    assert result.output.startswith(f"no milestones.yaml in {workdir / 'plans'} (TIMELINE_CONFIG_DIR is ")
    assert list(workdir.iterdir()) == []


def test_init_writes_a_starter_folder_that_checks_and_says_what_next(workdir: Path) -> None:
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    folder = workdir / "config"
    assert sorted(p.name for p in folder.iterdir()) == [
        ".env.example",
        ".gitignore",
        "feeds.yaml",
        "milestones.yaml",
        "subscriptions.yaml",
    ]
    assert f"Starter config in {folder}:" in result.output
    assert "timeline check" in result.output and "timeline serve" in result.output
    assert "export TIMELINE_CONFIG_DIR" not in result.output  # ./config is where commands look
    assert "The database will be config/var/timeline.db" in result.output
    checked = CliRunner().invoke(app, ["check"])
    assert checked.exit_code == 0, checked.output
    assert "7 milestones, OK" in checked.output and "0 subscriptions, OK" in checked.output
    assert list(folder.iterdir()) and not (folder / "var").exists()  # check creates no database


def test_init_elsewhere_says_how_to_point_there_and_keeps_what_exists(workdir: Path) -> None:
    (workdir / "plans").mkdir()
    (workdir / "plans" / "milestones.yaml").write_text("milestones: []\n")
    result = CliRunner().invoke(app, ["init", "plans"])
    assert result.exit_code == 0, result.output
    assert "milestones.yaml     kept (already there)" in result.output
    assert f"export TIMELINE_CONFIG_DIR={workdir / 'plans'}" in result.output
    assert (workdir / "plans" / "milestones.yaml").read_text() == "milestones: []\n"
    assert (workdir / "plans" / "feeds.yaml").is_file()


def test_the_env_example_names_every_setting() -> None:
    text = (STARTER / "env.example").read_text()
    missing = [name for name in Settings.model_fields if f"#TIMELINE_{name.upper()}=" not in text]
    assert missing == []


@pytest.mark.parametrize("name", ["milestones.yaml", "feeds.yaml"])
def test_the_starter_files_are_the_repositorys(name: str) -> None:
    """One text for both: copy config/NAME to timeline/starter/NAME after editing it."""
    assert (STARTER / name).read_text() == (REPO / "config" / name).read_text()


def test_the_gitignore_keeps_the_database_out() -> None:
    assert "var/" in (STARTER / "gitignore").read_text().splitlines()
