"""Health, readiness, metrics and request ids."""

from __future__ import annotations

import io
import json
import logging
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from freezegun import freeze_time
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from alerts.models import Delivery, DeliveryAttempt, Subscription
from alerts.notices import NewNotice, publish
from tests.web.conftest import NOW, READ_TOKEN, TOKEN, WRITE, write_config
from timeline.db import make_engine
from timeline.logs import JsonFormatter
from timeline.service import Service
from timeline.settings import load_settings
from timeline.web.app import create_app


class FakeScheduler:
    running = False

    def health(self) -> list[object]:
        return []


def test_healthz_and_readyz_when_all_is_well(client):
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"database": "ok", "config": "ok"}}


def _break_the_config(client, config_dir):
    write_config(config_dir, "milestones:\n  - id: broken\n    title: Broken\n    when: 2025-13\n")
    client.app.state.service.reload_config(NOW, force=True)


def test_a_config_that_failed_to_apply_is_reported_but_the_service_stays_ready(make_client, config_dir):
    client = make_client()
    _break_the_config(client, config_dir)
    response = client.get("/readyz")
    # The last good config serves: the service can do its work, so it is ready, and says what is wrong.
    assert response.status_code == 200
    body = response.json()
    assert body["ready"] is True
    assert body["checks"]["database"] == "ok"
    # Without a token: where the problem is, not what the file says.
    assert body["checks"]["config"] == (
        "not applied, the last good config is serving: milestones.yaml:4: milestones[0].when; "
        "send a token to see the messages"
    )
    assert "2025-13" not in response.text
    assert str(config_dir) not in response.text
    detailed = client.get("/readyz", headers=WRITE).json()["checks"]["config"]
    assert "milestones.yaml:4: milestones[0].when: '2025-13' is not a date" in detailed
    metrics = client.get("/metrics").text
    assert "timeline_config_last_reload_successful 0.0" in metrics
    # Fixed on disk: the report and the metric clear.
    write_config(config_dir)
    client.app.state.service.reload_config(NOW, force=True)
    assert client.get("/readyz").json()["checks"]["config"] == "ok"
    assert "timeline_config_last_reload_successful 1.0" in client.get("/metrics").text


def test_readyz_with_a_read_token_shows_the_details_to_its_holders(make_client, config_dir):
    client = make_client(api_read_token=READ_TOKEN)
    _break_the_config(client, config_dir)
    assert client.get("/readyz").status_code == 401
    body = client.get("/readyz", headers={"Authorization": f"Bearer {READ_TOKEN}"}).json()
    assert "'2025-13' is not a date" in body["checks"]["config"]
    assert "'2025-13' is not a date" in client.get("/readyz", params={"token": READ_TOKEN}).json()["checks"]["config"]


def test_a_stopped_scheduler_makes_the_service_unready(make_client):
    client = make_client(scheduler=FakeScheduler())
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "checks": {"database": "ok", "config": "ok", "scheduler": "not running"}}
    FakeScheduler.running = True
    try:
        assert client.get("/readyz").status_code == 200
    finally:
        FakeScheduler.running = False


def test_operations_endpoints_are_behind_the_read_token_when_one_is_set(make_client):
    client = make_client(api_read_token=READ_TOKEN)
    read = {"Authorization": f"Bearer {READ_TOKEN}"}
    assert client.get("/healthz").status_code == 200
    for path in ("/metrics", "/readyz", "/openapi.json", "/docs", "/redoc"):
        refused = client.get(path)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get(path, headers=read).status_code == 200, path
        assert client.get(path, headers=WRITE).status_code == 200, path
        assert client.get(path, params={"token": READ_TOKEN}).status_code == 200, path
        assert client.get(path, params={"token": TOKEN}).status_code == 401, path


def test_readyz_reports_an_unreachable_database(tmp_path):
    settings = load_settings(database_url="postgresql://nobody@127.0.0.1:1/none", config_dir=tmp_path)
    service = Service(settings, engine=make_engine(settings.database_url, connect_args={"connect_timeout": 2}))
    with TestClient(create_app(settings, service=service)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"].startswith("unreachable: OperationalError")
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "timeline_metrics_database_up 0.0" in metrics.text
    service.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_are_prometheus_text_from_the_database(client, engine):
    with engine.begin() as conn:
        publish(conn, [NewNotice("test.ping", f"test.ping:m{n}", NOW, {}) for n in range(4)], NOW)
        conn.execute(
            insert(Subscription.__table__).values(
                id="s1",
                url="https://example.org/hook",
                format="standard",
                events=["*"],
                tags=[],
                subjects=[],
                origin="api",
                active=True,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        notice_ids = conn.exec_driver_sql("SELECT id FROM notices ORDER BY id").scalars().all()
        for n, status in enumerate(["pending", "pending", "delivered", "dead"]):
            conn.execute(
                insert(Delivery.__table__).values(
                    id=n + 1,
                    notice_id=notice_ids[n],
                    subscription_id="s1",
                    webhook_id=f"msg_{n}",
                    status=status,
                    attempts=0,
                    created_at=NOW - timedelta(minutes=10 * n),
                    updated_at=NOW,
                )
            )
        for latency in (40.0, 300.0, 2000.0):
            conn.execute(insert(DeliveryAttempt.__table__).values(delivery_id=3, at=NOW, latency_ms=latency))
    with freeze_time(NOW + timedelta(hours=1)):
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples[("timeline_notices_total", (("type", "test.ping"),))] == 4
    assert samples[("timeline_deliveries", (("status", "pending"),))] == 2
    assert samples[("timeline_deliveries", (("status", "dead"),))] == 1
    assert samples[("timeline_outbox_depth", ())] == 2
    assert samples[("timeline_outbox_oldest_pending_age_seconds", ())] == 4200
    assert samples[("timeline_delivery_latency_seconds_bucket", (("le", "0.05"),))] == 1
    assert samples[("timeline_delivery_latency_seconds_bucket", (("le", "0.5"),))] == 2
    assert samples[("timeline_delivery_latency_seconds_bucket", (("le", "+Inf"),))] == 3
    assert samples[("timeline_delivery_latency_seconds_sum", ())] == 2.34
    assert samples[("timeline_milestones", (("status", "in_progress"),))] == 1
    assert ("timeline_metrics_database_up", ()) in samples
    assert "# TYPE timeline_scan_duration_seconds histogram" in response.text
    assert samples[("timeline_feed_polls_total", (("result", "error"),))] == 0


def test_every_label_of_a_finite_set_is_exported_at_zero(client):
    samples = _samples(client.get("/metrics").text)
    for status in ("pending", "in_flight", "delivered", "dead", "cancelled"):
        assert samples[("timeline_deliveries", (("status", status),))] == 0
    for status in ("planned", "done", "cancelled"):
        assert samples[("timeline_milestones", (("status", status),))] == (2 if status == "planned" else 0)
    for kind in ("milestone.due", "milestone.overdue", "feed.failing", "subscription.disabled", "test.ping"):
        assert samples[("timeline_notices_total", (("type", kind),))] == 0
    for status in ("new", "ok", "not_modified", "error"):
        assert samples[("timeline_feeds", (("status", status),))] == 0
    assert samples[("timeline_outbox_depth", ())] == 0


def test_metrics_speak_openmetrics_to_a_scraper_that_asks(client):
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    response = client.get("/metrics", headers={"Accept": accept})
    assert response.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    assert response.text.rstrip().endswith("# EOF")
    families = {f.name: f for f in openmetrics_families(response.text)}
    assert families["timeline_deliveries"].type == "gauge"
    assert families["timeline_notices"].type == "counter"
    plain = client.get("/metrics", headers={"Accept": "text/plain"})
    assert plain.headers["content-type"].startswith("text/plain")
    assert "# EOF" not in plain.text


def test_apps_have_registries_of_their_own(make_client):
    first, second = make_client(), make_client()
    first.app.state.metrics.record_poll("ok")
    with first.app.state.metrics.time_scan():
        pass
    assert 'timeline_feed_polls_total{result="ok"} 1.0' in first.get("/metrics").text
    assert "timeline_scan_duration_seconds_count 1.0" in first.get("/metrics").text
    assert 'timeline_feed_polls_total{result="ok"} 0.0' in second.get("/metrics").text


def test_request_id_is_returned_and_on_every_log_line(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        given = client.get("/api/milestones", headers={"X-Request-ID": "abc-123"})
        created = client.post("/api/milestones", json={"id": "m", "title": "M", "when": "2027"}, headers=WRITE)
        odd = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert given.headers["x-request-id"] == "abc-123"
    assert len(created.headers["x-request-id"]) == 32
    assert odd.headers["x-request-id"] != "bad id\twith spaces"
    # The server's lines (the test client logs its own requests too, outside any server request).
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    lines = [line for line in lines if not line["logger"].startswith("httpx")]
    assert lines
    assert all("request_id" in line for line in lines), lines
    access = [line for line in lines if line["logger"] == "timeline.web"]
    assert [(a["request_id"], a["status"]) for a in access] == [
        ("abc-123", 200),
        (created.headers["x-request-id"], 201),
        (odd.headers["x-request-id"], 200),
    ]


def test_an_unexpected_failure_is_a_logged_json_500(tmp_path, caplog):
    settings = load_settings(database_url="postgresql://nobody@127.0.0.1:1/none", config_dir=tmp_path)
    service = Service(settings, engine=make_engine(settings.database_url, connect_args={"connect_timeout": 2}))
    with TestClient(create_app(settings, service=service), raise_server_exceptions=False) as client:
        response = client.get("/api/milestones")
    service.close()
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal"
    assert "OperationalError" not in response.text
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])  # for the caller to quote
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert logged.name == "timeline.web" and "GET /api/milestones" in logged.getMessage()
