"""Broken milestone files: one line per problem, `file:line: field: message`, and nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from alerts.notices import NOTICES
from timeline.cli import app
from timeline.config.milestones import load_milestones
from timeline.errors import ConfigError
from timeline.store import CHANGES, MILESTONES
from timeline.sync import sync_config

GOOD = """\
defaults: {timezone: UTC}
milestones:
  - id: first
    title: First
    when: 2026-Q3
  - id: second
    title: Second
    starts: 2025
    ends: 2027
"""

BROKEN = {
    "yaml syntax": (
        "milestones:\n  - id: a\n    title: [unclosed\n",
        ["milestones.yaml:3: YAML syntax"],
    ),
    "unknown field": (
        "milestones:\n  - id: a\n    title: A\n    when: 2025\n    whne: 2026\n",
        ["milestones.yaml:5: milestones[0].whne: unknown field 'whne'; allowed fields: id, title"],
    ),
    "bad date": (
        "milestones:\n  - id: a\n    title: A\n    when: 2025-01\n  - id: b\n    title: B\n    when: 2025-13\n",
        [
            "milestones.yaml:7: milestones[1].when: '2025-13' is not a date; "
            "use 2025, 2025-H2, 2025-Q3, 2025-09, 2025-09-15"
        ],
    ),
    "duplicate id": (
        "milestones:\n  - id: a\n    title: A\n    when: 2025\n  - id: a\n    title: B\n    when: 2026\n",
        ["milestones.yaml:5: milestones[1].id: duplicate id 'a', first used in milestones[0]"],
    ),
    "end before start": (
        "milestones:\n  - id: a\n    title: A\n    starts: 2027\n    ends: 2025\n",
        ["milestones.yaml:5: milestones[0].ends: ends '2025' is before starts '2027'"],
    ),
    "unknown time zone": (
        "milestones:\n  - id: a\n    title: A\n    when: 2025\n    timezone: Europe/Atlantis\n",
        ["milestones.yaml:5: milestones[0].timezone: 'Europe/Atlantis' is not a known time zone"],
    ),
    "wrong type": (
        "milestones:\n  - id: a\n    title: A\n    when: 2025\n    tags: anthropic\n",
        ["milestones.yaml:5: milestones[0].tags: Input should be a valid list"],
    ),
    "bad status": (
        "milestones:\n  - id: a\n    title: A\n    when: 2025\n    status: finished\n",
        ["milestones.yaml:5: milestones[0].status: Input should be 'planned', 'in_progress', 'done' or 'cancelled'"],
    ),
    "bad duration": (
        "defaults:\n  remind: [90d, soon]\nmilestones: []\n",
        ["milestones.yaml:2: defaults.remind[1]: 'soon' is not a duration; write a whole number and a unit"],
    ),
    "when and span": (
        "milestones:\n  - id: a\n    title: A\n    when: 2025\n    starts: 2025\n    ends: 2026\n",
        ["milestones.yaml:4: milestones[0].when: give either `when` (a point) or `starts` and `ends`"],
    ),
    "missing title": (
        "milestones:\n  - id: a\n    when: 2025\n",
        ["milestones.yaml:2: milestones[0].title: required field is missing"],
    ),
    "duplicate key": (
        "milestones:\n  - id: a\n    title: A\n    title: B\n    when: 2025\n",
        ["milestones.yaml:4: YAML syntax", 'found duplicate key "title"'],
    ),
}


def _config(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "config"
    folder.mkdir(exist_ok=True)
    (folder / "milestones.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_problem_names_file_line_and_field(tmp_path: Path, case: str) -> None:
    text, expected = BROKEN[case]
    folder = _config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_milestones(folder / "milestones.yaml")
    message = str(caught.value)
    assert message.startswith(str(folder / "milestones.yaml") + ":")
    for fragment in expected:
        assert fragment in message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = "milestones:\n  - id: a\n    title: A\n    when: 2025-13\n  - id: A B\n    title: B\n    when: 2026-Q9\n"
    with pytest.raises(ConfigError) as caught:
        load_milestones(_config(tmp_path, text) / "milestones.yaml")
    assert [p.line for p in caught.value.problems] == [4, 5, 7]


def _counts(engine: Engine) -> tuple[int, int, int, list[tuple[str, str]]]:
    with engine.connect() as conn:
        rows = [(r.id, r.title) for r in conn.execute(select(MILESTONES.c.id, MILESTONES.c.title))]
        return (
            conn.execute(select(func.count()).select_from(MILESTONES)).scalar_one(),
            conn.execute(select(func.count()).select_from(CHANGES)).scalar_one(),
            conn.execute(select(func.count()).select_from(NOTICES)).scalar_one(),
            sorted(rows),
        )


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_edit_changes_nothing_in_the_database(engine: Engine, tmp_path: Path, case: str) -> None:
    folder = _config(tmp_path, GOOD)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    sync_config(engine, folder / "milestones.yaml", now)
    before = _counts(engine)
    _config(tmp_path, BROKEN[case][0])
    with pytest.raises(ConfigError):
        sync_config(engine, folder / "milestones.yaml", now)
    assert _counts(engine) == before


def test_check_exits_1_with_one_line_per_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _config(tmp_path, BROKEN["bad date"][0])
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(folder))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'untouched.db'}")
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert f"{folder / 'milestones.yaml'}:7: milestones[1].when: '2025-13' is not a date" in result.output
    assert not (tmp_path / "untouched.db").exists()


def test_check_accepts_the_shipped_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(Path(__file__).parents[2] / "config"))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'untouched.db'}")
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "7 milestones, OK" in result.output
