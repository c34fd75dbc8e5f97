from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.feeds.server import LocalServer, local_server
from timeline.settings import Settings, load_settings

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with local_server() as running:
        yield running


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "config_dir": tmp_path,
        "database_url": "sqlite:///" + str(tmp_path / "unused.db"),
        "feed_allow_private": True,
        "feed_concurrency": 20,
        "feed_per_host": 20,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def db(sqlite_engine: Engine) -> Engine:
    return sqlite_engine
