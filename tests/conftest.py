"""Shared fixtures. `engine` runs each storage test on SQLite and on PostgreSQL.

PostgreSQL is the server at TIMELINE_TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test).
Each test session creates its own database there and drops it at the end. Without a server the
PostgreSQL runs skip with the reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlmodel import SQLModel

import timeline.tables  # noqa: F401  (every table in SQLModel.metadata)
from timeline.db import make_engine, upgrade

# `make mutation` runs each test once per mutant: its property tests draw fewer examples (their
# `@example` cases always run), so a run takes minutes, not an hour.
hypothesis_settings.register_profile("mutation", max_examples=15, deadline=None)
if os.environ.get("TIMELINE_HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["TIMELINE_HYPOTHESIS_PROFILE"])
PG_ADMIN_URL = os.environ.get("TIMELINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("TIMELINE_SHARED_DIR") or REPO.parent / "shared")
"""../shared beside the checkout; TIMELINE_SHARED_DIR points elsewhere (a worktree has no ../shared)."""
SHIPPED_CONFIG = REPO / "config"
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str) or host in _LOCAL_NAMES:
        return isinstance(host, str)
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """No test in this process may reach past 127.0.0.1/::1: name look-ups of other hosts and
    connections to other addresses fail here, before a packet leaves (the shipped feeds and any
    generated URL included). The SSRF guard's own decisions are tested on addresses, not packets."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host.decode() if isinstance(host, bytes) else host):
            raise socket.gaierror(socket.EAI_NONAME, f"tests resolve only loopback names, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"tests connect only to loopback, not {address[0]!r}")
        return real_connect(self, address)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    yield
    socket.getaddrinfo = real_getaddrinfo
    socket.socket.connect = real_connect  # type: ignore[method-assign]


@pytest.fixture
def milestones_config(tmp_path: Path) -> Path:
    """A config folder holding the shipped milestones.yaml only: no feeds to poll, no subscribers."""
    folder = tmp_path / "milestones-config"
    folder.mkdir()
    shutil.copy(SHIPPED_CONFIG / "milestones.yaml", folder / "milestones.yaml")
    return folder


def pg_unavailable() -> str | None:
    try:
        probe = create_engine(PG_ADMIN_URL)
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
    except Exception as exc:
        return f"no PostgreSQL at {PG_ADMIN_URL}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


def require_pg() -> None:
    """Skip without a PostgreSQL server, except under CI=true, where that is a failure."""
    reason = pg_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)


@contextmanager
def fresh_database(prefix: str, *, before_drop: Callable[[], object] | None = None) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards (`before_drop` runs first)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    # pre-ping: the reliability suite restarts the server mid-session
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if before_drop is not None:
            before_drop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    require_pg()
    with fresh_database("timeline_test") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """The URL of an empty, migrated database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "timeline.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_url")
    cleaner = make_engine(url)
    _truncate_all(cleaner)
    yield url
    cleaner.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """SQLite only, for tests that are not about storage."""
    path = tmp_path / "timeline.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def shared_dir() -> Path:
    """../shared, where the corpus lives; its tests skip without it, except under CI=true."""
    if not SHARED.is_dir():
        if IN_CI:
            pytest.fail(f"CI=true requires {SHARED}")
        pytest.skip(f"{SHARED} is absent")
    return SHARED
