"""Config reloads by the running service (#17 items 3 and 4): edits applied once the files have
settled (H4: a file truncated then written is never applied half-way), unchanged bytes not parsed
again, and a failed reload reported until the files on disk are good again, whatever their bytes
(M3). Time is frozen: the settle time is measured on the frozen clock, file times set to it."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from prometheus_client import generate_latest
from sqlalchemy import Engine, select

from alerts.models import Subscription
from alerts.notices import NOTICES
from timeline.config.milestones import Defaults
from timeline.editing import create_milestone, delete_milestone
from timeline.service import Service
from timeline.settings import load_settings
from timeline.store import MILESTONES

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GOOD = "milestones:\n" + "".join(f"  - id: m{i}\n    title: Milestone {i}\n    when: 2027-Q{i}\n" for i in (1, 2, 3))
EDITED = GOOD.replace("title: Milestone 2", "title: Milestone two")
BROKEN = GOOD.replace("2027-Q3", "2027-Q5")
SUBSCRIPTIONS = "subscriptions:\n  - id: chat\n    url: https://hooks.example.com/services/x\n    format: slack\n"
SUBSCRIPTIONS_TABLE = Subscription.__table__  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(T0) as frozen:
        yield frozen


def write(path: Path, text: str, *, age: float = 0.0) -> None:
    """Write `text`, as if `age` seconds ago (by the frozen clock)."""
    path.write_text(text)
    stamp = datetime.now(UTC).timestamp() - age
    os.utime(path, (stamp, stamp))


@pytest.fixture
def service(engine: Engine, tmp_path: Path, clock: FrozenDateTimeFactory) -> Service:
    folder = tmp_path / "config"
    folder.mkdir()
    write(folder / "milestones.yaml", GOOD, age=60)
    write(folder / "subscriptions.yaml", SUBSCRIPTIONS, age=60)
    settings = load_settings(config_dir=folder, database_url=str(engine.url.render_as_string(hide_password=False)))
    running = Service(settings, engine=engine)
    assert running.reload_config() is not None  # quiet for a minute: applied at once
    return running


def _titles(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        query = select(MILESTONES.c.id, MILESTONES.c.title).where(MILESTONES.c.archived_at.is_(None))
        return {row.id: row.title for row in conn.execute(query)}


def _notice_types(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(NOTICES.c.type)).scalars())


def _gauges(service: Service) -> dict[str, float]:
    text = generate_latest(service.metrics.registry).decode()
    found = {}
    for line in text.splitlines():
        if line.startswith("timeline_config_last_reload"):
            name, value = line.split(" ")
            found[name] = float(value)
    return found


def test_an_edit_is_applied_once_the_files_have_been_quiet(
    service: Service, engine: Engine, clock: FrozenDateTimeFactory
) -> None:
    path = service.settings.milestones_file
    write(path, EDITED)
    assert service.reload_config() is None
    assert service.config_settling() == timedelta(seconds=1)
    assert _titles(engine)["m2"] == "Milestone 2"
    clock.tick(0.5)
    assert service.reload_config() is None
    clock.tick(0.6)
    result = service.reload_config()
    assert result is not None and [c.kind for c in result.changes] == ["edited"]
    assert _titles(engine)["m2"] == "Milestone two"
    assert service.config_settling() is None


def test_a_file_truncated_then_written_is_one_edit_not_a_removal_and_an_addition(
    service: Service, engine: Engine, clock: FrozenDateTimeFactory
) -> None:
    """H4: `> milestones.yaml` then the new text, with reloads in between."""
    path = service.settings.milestones_file
    write(path, "")
    assert service.reload_config() is None
    clock.tick(0.3)
    write(path, EDITED[: len(EDITED) // 2])  # half written
    assert service.reload_config() is None
    clock.tick(0.3)
    write(path, EDITED)
    assert service.reload_config() is None
    clock.tick(1.01)
    assert service.reload_config() is not None
    assert _titles(engine) == {"m1": "Milestone 1", "m2": "Milestone two", "m3": "Milestone 3"}
    assert _notice_types(engine) == []  # the first import is quiet; an edit of a title raises none
    assert service.config_status().ok


def test_a_file_left_empty_is_refused_and_nothing_is_removed(
    service: Service, engine: Engine, clock: FrozenDateTimeFactory
) -> None:
    write(service.settings.milestones_file, "")
    write(service.settings.subscriptions_file, "\n")
    clock.tick(5)
    assert service.reload_config() is None
    status = service.config_status()
    assert not status.ok
    assert [(p.path.name, p.line, p.message.split(";")[0]) for p in status.problems] == [
        ("milestones.yaml", 1, "the file is empty"),
        ("subscriptions.yaml", 1, "the file is empty"),
    ]
    assert len(_titles(engine)) == 3 and _notice_types(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(SUBSCRIPTIONS_TABLE.c.id, SUBSCRIPTIONS_TABLE.c.active)).all() == [("chat", True)]


def test_a_revert_to_the_last_good_bytes_clears_the_error(
    service: Service, engine: Engine, clock: FrozenDateTimeFactory
) -> None:
    """M3: the fingerprint check used to return before clearing the error."""
    path = service.settings.milestones_file
    applied_at = service.config_status().applied_at
    write(path, BROKEN, age=5)
    service.reload_config()
    status = service.config_status()
    assert not status.ok and status.applied_at == applied_at
    assert status.summary == (
        "not applied: 1 problem in milestones.yaml (line 10); the config applied at 2026-03-01 12:00 UTC keeps running"
    )
    assert _gauges(service)["timeline_config_last_reload_successful"] == 0.0
    clock.tick(60)
    write(path, GOOD, age=5)
    assert service.reload_config() is None  # the bytes applied before: nothing to do
    assert service.config_status().ok and service.config_status().problems == ()
    assert _gauges(service) == {
        "timeline_config_last_reload_successful": 1.0,
        "timeline_config_last_reload_success_timestamp_seconds": (T0 + timedelta(seconds=60)).timestamp(),
    }


def test_other_good_bytes_clear_the_error_too(service: Service, engine: Engine) -> None:
    path = service.settings.milestones_file
    write(path, BROKEN, age=5)
    service.reload_config()
    write(path, "# the same milestones, commented\n" + GOOD, age=5)
    assert service.reload_config() is not None
    assert service.config_status().ok and _gauges(service)["timeline_config_last_reload_successful"] == 1.0


def test_the_same_broken_bytes_are_neither_parsed_nor_logged_again(
    service: Service, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subscription whose secret is missing: exporting it afterwards changes nothing until the
    bytes change or a forced reload (at start, `timeline sync`), which proves the bytes were not
    parsed again."""
    write(
        service.settings.subscriptions_file, SUBSCRIPTIONS.replace("slack", "standard") + "    secret_env: X\n", age=5
    )
    monkeypatch.delenv("X", raising=False)
    with caplog.at_level(logging.ERROR, logger="timeline.service"):
        for _ in range(3):
            service.reload_config()
    assert len([r for r in caplog.records if "config not applied" in r.getMessage()]) == 1
    monkeypatch.setenv("X", "whsec_" + "A" * 32)
    service.reload_config()
    assert not service.config_status().ok
    service.reload_config(force=True)
    assert service.config_status().ok


def test_a_clash_with_an_api_milestone_is_retried_without_parsing_once_the_api_one_is_gone(
    service: Service, engine: Engine
) -> None:
    path = service.settings.milestones_file
    create_milestone(
        engine, {"id": "shared", "title": "API", "when": "2027"}, T0, defaults=Defaults(), config_file=path
    )
    write(path, GOOD + "  - id: shared\n    title: File\n    when: 2028\n", age=5)
    service.reload_config()
    (problem,) = service.config_status().problems
    assert (problem.line, problem.field) == (11, "milestones[3].id")
    delete_milestone(engine, "shared", T0, config_file=path)
    assert service.reload_config() is not None
    assert _titles(engine)["shared"] == "File" and service.config_status().ok


def test_a_clock_stepped_back_does_not_hold_an_edit_for_ever(
    service: Service, engine: Engine, clock: FrozenDateTimeFactory
) -> None:
    """A file time in the future (the wall clock stepped back): the bytes settle by the monotonic
    clock instead."""
    path = service.settings.milestones_file
    write(path, EDITED, age=-3600)
    assert service.reload_config() is None
    clock.tick(1.5)
    assert service.reload_config() is not None
    assert _titles(engine)["m2"] == "Milestone two"
