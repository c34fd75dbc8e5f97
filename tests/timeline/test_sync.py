"""Config sync against the database, on SQLite and PostgreSQL: edits become changes and notices once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from alerts.notices import NOTICES
from timeline.scan import scan_due
from timeline.store import CHANGES, MILESTONES
from timeline.sync import sync_config

NOW = datetime(2026, 3, 1, tzinfo=UTC)
BASE = """\
milestones:
  - id: build
    title: Build
    starts: 2025
    ends: 2027-H1
    status: in_progress
  - id: launch
    title: Launch
    when: 2026-09-15
"""


def _write(folder: Path, text: str) -> Path:
    path = folder / "milestones.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _notices(engine: Engine) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return [(r.key, r.payload) for r in conn.execute(select(NOTICES).order_by(NOTICES.c.id))]


def test_first_import_is_quiet_and_recorded(engine: Engine, tmp_path: Path) -> None:
    result = sync_config(engine, _write(tmp_path, BASE), NOW)
    assert [c.kind for c in result.changes] == ["added", "added"]
    assert _notices(engine) == []
    with engine.connect() as conn:
        assert [r.kind for r in conn.execute(select(CHANGES))] == ["added", "added"]
        row = conn.execute(select(MILESTONES).where(MILESTONES.c.id == "build")).one()
    assert row.due_at == datetime(2027, 7, 1, tzinfo=UTC)
    assert row.created_at == NOW


def test_a_moved_date_is_rescheduled_once_with_its_slip(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    sync_config(engine, path, NOW)
    _write(tmp_path, BASE.replace("ends: 2027-H1", "ends: 2027"))
    result = sync_config(engine, path, NOW)
    assert [c.describe() for c in result.changes] == [
        "rescheduled build: end moved from 2027-H1 to 2027 (+184 days)"
    ]
    assert sync_config(engine, path, NOW).changes == []
    (key, payload), *rest = _notices(engine)
    assert rest == []
    assert key.startswith("milestone.rescheduled:build:")
    data = payload["data"]
    assert (data["slip_days"], data["direction"]) == (184, "later")
    assert data["previous_window"]["due_at"] == "2027-07-01T00:00:00Z"
    assert data["window"]["due_at"] == "2028-01-01T00:00:00Z"
    assert data["message"]["text"] == "End moved from 2027-H1 to 2027 (+184 days)."
    assert data["message"]["headline"].endswith(" slipped 184 days")
    with engine.connect() as conn:
        assert conn.execute(select(MILESTONES.c.revision).where(MILESTONES.c.id == "build")).scalar_one() == 2


def test_done_stops_due_and_overdue(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    sync_config(engine, path, NOW)
    _write(tmp_path, BASE.replace("status: in_progress", "status: done"))
    sync_config(engine, path, NOW)
    assert next(k for k, _ in _notices(engine)).startswith("milestone.status_changed:build:")
    scan_due(engine, datetime(2027, 7, 2, tzinfo=UTC))
    scan_due(engine, datetime(2027, 8, 2, tzinfo=UTC))
    keys = [k for k, _ in _notices(engine)]
    assert not any(k.startswith(("milestone.due:build", "milestone.overdue:build")) for k in keys)
    assert any(k.startswith("milestone.overdue:launch") for k in keys)  # the scans did run


def test_a_deleted_milestone_is_archived_not_deleted_and_can_come_back(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    sync_config(engine, path, NOW)
    _write(tmp_path, BASE.split("  - id: launch")[0])
    assert [c.kind for c in sync_config(engine, path, NOW).changes] == ["removed"]
    with engine.connect() as conn:
        archived = conn.execute(select(MILESTONES.c.archived_at).where(MILESTONES.c.id == "launch")).scalar_one()
    assert archived == NOW
    assert scan_due(engine, datetime(2026, 9, 16, tzinfo=UTC)) == []  # archived: no reminders
    _write(tmp_path, BASE)
    assert [c.kind for c in sync_config(engine, path, NOW).changes] == ["added"]
    types = [k.split(":")[0] for k, _ in _notices(engine)]
    assert types == ["milestone.removed", "milestone.added"]


def test_dry_run_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    sync_config(engine, path, NOW)
    _write(tmp_path, BASE.replace("when: 2026-09-15", "when: 2026-10-15"))
    result = sync_config(engine, path, NOW, dry_run=True)
    assert [c.kind for c in result.changes] == ["rescheduled"]
    assert [c.kind for c in sync_config(engine, path, NOW, dry_run=True).changes] == ["rescheduled"]
    assert _notices(engine) == []


def test_an_edit_is_recorded_without_a_notice(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, BASE)
    sync_config(engine, path, NOW)
    _write(tmp_path, BASE.replace("title: Launch", "title: Public launch"))
    result = sync_config(engine, path, NOW)
    assert [c.describe() for c in result.changes] == ["edited launch: title"]
    assert _notices(engine) == []


def test_milestones_created_through_the_api_are_left_alone(engine: Engine, tmp_path: Path) -> None:
    from timeline.config.milestones import Defaults
    from timeline.editing import create_milestone

    path = _write(tmp_path, BASE)
    sync_config(engine, path, NOW)
    create_milestone(
        engine, {"id": "api-one", "title": "From the API", "when": "2027"}, NOW, defaults=Defaults(), config_file=path
    )
    assert sync_config(engine, path, NOW).changes == []
    _write(tmp_path, BASE.split("  - id: launch")[0])
    assert [(c.kind, c.milestone.id) for c in sync_config(engine, path, NOW).changes] == [("removed", "launch")]
    with engine.connect() as conn:
        row = conn.execute(select(MILESTONES).where(MILESTONES.c.id == "api-one")).one()
    assert (row.origin, row.archived_at) == ("api", None)
