"""Workers that start together on an empty PostgreSQL database: they take turns to migrate and to
apply the config files, so none of them crashes and every change is recorded once.

Found by the 3-worker scenario: without the advisory locks in `timeline.db.upgrade` and
`timeline.sync.apply_config`, two of three workers died at start (a duplicate `alembic_version`
type, then a duplicate milestone key), and an edit seen by several workers at once was applied, and
notified, once per worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from alerts.notices import NOTICES
from timeline.service import Service
from timeline.settings import load_settings
from timeline.store import CHANGES

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]


def _together(count: int, job: Callable[[], Any]) -> list[BaseException]:
    """Run `job` in `count` threads released at the same instant; the exceptions they raised."""
    gate = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        gate.wait()
        try:
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def _milestones(count: int, when: str) -> str:
    items = "".join(f"  - {{id: m{i}, title: M{i}, when: '{when}'}}\n" for i in range(count))
    return "milestones:\n" + items


@pytest.mark.timeout(60)
def test_workers_starting_together_migrate_and_sync_once(fresh_pg: str, tmp_path: Path, db: Engine) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "milestones.yaml"
    path.write_text(_milestones(50, "2030-06"))
    services = [Service(load_settings(database_url=fresh_pg, config_dir=folder)) for _ in range(4)]
    try:

        def start(service: Service) -> Callable[[], None]:
            def run() -> None:
                service.upgrade()
                service.reload_config(force=True)
                assert service.config.error is None

            return run

        jobs = iter(services)
        assert _together(4, lambda: start(next(jobs))()) == []
        with db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(CHANGES)).scalar_one() == 50

        # An edit every worker sees at the same time is applied, and notified, once.
        path.write_text(_milestones(50, "2031-06"))
        jobs = iter(services)
        assert _together(4, lambda: next(jobs).reload_config(force=True)) == []
        with db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(CHANGES)).scalar_one() == 100
            rescheduled = select(func.count()).where(NOTICES.c.type == "milestone.rescheduled")
            assert conn.execute(rescheduled).scalar_one() == 50
    finally:
        for service in services:
            service.close()
