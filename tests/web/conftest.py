"""Web fixtures: a real app over a real database (SQLite and PostgreSQL through `engine`), config
files in a temporary folder, and a TestClient."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from timeline.service import Service
from timeline.settings import Settings, load_settings
from timeline.web.app import create_app

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TOKEN = "write-token-123"
READ_TOKEN = "read-token-456"
WRITE = {"Authorization": f"Bearer {TOKEN}"}

MILESTONES = """\
defaults: {timezone: UTC, remind: [90d, 30d, 7d, 1d], grace: 30d}
milestones:
  - id: anthropic-us-construction
    title: Construction of Anthropic's US data centres
    subject: Anthropic
    starts: 2025
    ends: 2027
    status: in_progress
    tags: [anthropic, datacenter, us]
  - id: microsoft-sweden
    title: Microsoft's 3.3 billion in Sweden
    subject: Microsoft
    when: 2025-H2
    tags: [microsoft, datacenter]
  - id: example-point
    title: A dated point in Paris
    when: 2026-Q3
    timezone: Europe/Paris
    remind: [30d, 7d]
    tags: [example]
"""


def write_config(folder: Path, milestones: str = MILESTONES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "milestones.yaml").write_text(milestones)
    return folder


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return write_config(tmp_path / "config")


@pytest.fixture
def make_client(engine: Engine, config_dir: Path) -> Iterator[Callable[..., TestClient]]:
    """Build a client for an app over `engine` with the given settings; the config is applied at NOW."""
    clients: list[TestClient] = []

    def make(*, scheduler: Any = None, sync: bool = True, **overrides: Any) -> TestClient:
        settings: Settings = load_settings(
            database_url=str(engine.url.render_as_string(hide_password=False)),
            config_dir=config_dir,
            **({"api_token": TOKEN} | overrides),
        )
        service = Service(settings, engine=engine)
        if sync:
            service.reload_config(NOW, force=True)
        client = TestClient(create_app(settings, service=service, scheduler=scheduler))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` behind a real uvicorn server on 127.0.0.1, in a thread; yields its base URL (with `/`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
