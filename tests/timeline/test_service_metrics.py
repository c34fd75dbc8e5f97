"""The service's own work shows in /metrics: scan durations and feed polls by result."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.alerts.receiver import Receiver, Reply
from tests.feeds.builders import Item, rss
from timeline.service import Service
from timeline.settings import load_settings
from timeline.web.app import create_app


def test_scans_and_polls_are_counted(sqlite_engine: Engine, milestones_config: Path) -> None:
    with Receiver() as server:
        server.reply("/feed.xml", Reply(body=rss(Item("x", guid="1")).decode()))
        (milestones_config / "feeds.yaml").write_text(f"feeds:\n  - id: f\n    url: {server.url('/feed.xml')}\n")
        settings = load_settings(
            config_dir=milestones_config, database_url=str(sqlite_engine.url), feed_allow_private=True
        )
        service = Service(settings, engine=sqlite_engine)
        service.once(datetime(2026, 12, 1, tzinfo=UTC))
    with TestClient(create_app(settings, service=service)) as client:
        text = client.get("/metrics").text
    assert "timeline_scan_duration_seconds_count 1.0" in text
    assert 'timeline_feed_polls_total{result="ok"} 1.0' in text
