"""Subscriptions and deliveries through the API, over a real database; pings to a receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, text
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alerts.models import Delivery, DeliveryAttempt
from alerts.notices import NewNotice, publish
from tests.web.conftest import NOW, TOKEN, WRITE, serving
from timeline.db import make_engine
from timeline.service import Service
from timeline.settings import load_settings
from timeline.web.app import create_app

HOOK = {"url": "https://hooks.example.com/timeline", "events": ["milestone.*"], "tags": ["anthropic"]}


def test_subscription_lifecycle_shows_the_secret_only_at_creation_and_rotation(client):
    created = client.post("/api/subscriptions", json=HOOK, headers=WRITE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    sid = body["id"]
    assert created.headers["location"].endswith(f"/api/subscriptions/{sid}")

    listed = client.get("/api/subscriptions").json()
    assert [s["id"] for s in listed] == [sid]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"/api/subscriptions/{sid}").json()

    rotated = client.post(f"/api/subscriptions/{sid}/rotate-secret", headers=WRITE).json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != body["secret"]
    assert rotated["previous_secret_expires_at"] is not None

    patched = client.patch(f"/api/subscriptions/{sid}", json={"active": False}, headers=WRITE).json()
    assert patched["active"] is False
    assert patched["disabled_reason"] == "disabled by a user"

    assert client.delete(f"/api/subscriptions/{sid}", headers=WRITE).status_code == 204
    assert client.get(f"/api/subscriptions/{sid}").status_code == 404


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://[::1]/hook", "http://169.254.169.254/latest", "http://10.0.0.1/"]
)
def test_private_targets_are_refused_naming_the_url(client, url):
    response = client.post("/api/subscriptions", json=HOOK | {"url": url}, headers=WRITE)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unsafe_target"
    assert response.json()["error"]["field"] == "url"


def test_subscription_input_errors_name_the_field(client):
    for body, field in (
        (HOOK | {"format": "teams"}, "format"),
        (HOOK | {"url": "ftp://example.org/x"}, "url"),
        (HOOK | {"events": []}, "events"),
        (HOOK | {"secret": "whsec_x"}, "secret"),
    ):
        response = client.post("/api/subscriptions", json=body, headers=WRITE)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["field"] == field
    assert client.post("/api/subscriptions", json=HOOK).status_code == 401


def test_a_test_ping_reaches_a_local_receiver(make_client, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    client = make_client(webhook_allow_private=True)
    sid = client.post("/api/subscriptions", json=HOOK | {"url": httpserver.url_for("/hook")}, headers=WRITE).json()[
        "id"
    ]
    ping = client.post(f"/api/subscriptions/{sid}/test", headers=WRITE)
    assert ping.status_code == 200, ping.text
    assert ping.json()["ok"] is True
    assert ping.json()["status_code"] == 204
    request, _ = httpserver.log[0]
    assert request.headers["webhook-id"] == ping.json()["webhook_id"]
    assert request.headers["webhook-signature"].startswith("v1,")
    assert client.post("/api/subscriptions/nope/test", headers=WRITE).status_code == 404


def _deliveries(engine, subscription_id: str) -> list[int]:
    with engine.begin() as conn:
        publish(conn, [NewNotice("milestone.due", f"milestone.due:m:{n}", NOW, {"n": n}) for n in range(3)], NOW)
        ids = conn.exec_driver_sql("SELECT id FROM notices ORDER BY id").scalars().all()
        for n, (notice_id, status) in enumerate(zip(ids, ["dead", "delivered", "dead"], strict=True)):
            conn.execute(
                insert(Delivery.__table__).values(
                    id=n + 1,
                    notice_id=notice_id,
                    subscription_id=subscription_id,
                    webhook_id=f"msg_{n}",
                    status=status,
                    attempts=8,
                    last_status_code=500,
                    created_at=NOW - timedelta(hours=3 - n),
                    updated_at=NOW,
                )
            )
        conn.execute(insert(DeliveryAttempt.__table__).values(delivery_id=1, at=NOW, status_code=500, latency_ms=12.5))
    return [1, 2, 3]


def test_deliveries_list_detail_retry_and_recover(client, engine):
    sid = client.post("/api/subscriptions", json=HOOK, headers=WRITE).json()["id"]
    _deliveries(engine, sid)

    page = client.get("/api/deliveries", params={"limit": 2}).json()
    assert [d["id"] for d in page["items"]] == [3, 2]
    rest = client.get("/api/deliveries", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [d["id"] for d in rest["items"]] == [1]
    assert rest["next_cursor"] is None
    dead = client.get("/api/deliveries", params={"status": "dead", "subscription": sid}).json()["items"]
    assert [d["id"] for d in dead] == [3, 1]
    assert client.get("/api/deliveries", params={"status": "lost"}).json()["error"]["field"] == "status"

    detail = client.get("/api/deliveries/1").json()
    assert detail["webhook_id"] == "msg_0"
    assert detail["payload"]["type"] == "milestone.due"
    assert [a["status_code"] for a in detail["attempt_log"]] == [500]
    assert client.get("/api/deliveries/99").status_code == 404

    retried = client.post("/api/deliveries/1/retry", headers=WRITE).json()
    assert (retried["status"], retried["attempts"], retried["webhook_id"]) == ("pending", 0, "msg_0")

    recovered = client.post(
        f"/api/subscriptions/{sid}/recover", params={"since": (NOW - timedelta(hours=2)).isoformat()}, headers=WRITE
    )
    assert recovered.status_code == 200, recovered.text
    assert recovered.json() == {"queued": 1}
    assert client.post(f"/api/subscriptions/{sid}/recover", params={"since": "soon"}, headers=WRITE).status_code == 422

    client.patch(f"/api/subscriptions/{sid}", json={"active": False}, headers=WRITE)
    conflict = client.post("/api/deliveries/2/retry", headers=WRITE)
    assert conflict.status_code == 409
    assert "enable it first" in conflict.json()["error"]["message"]


def test_concurrent_rotations_never_hand_out_a_secret_that_does_not_sign(db_url, config_dir, httpserver):
    """20 rotations at once: every secret handed out either signs the next webhook, or was replaced by
    a later successful rotation that kept it as its previous secret. None is silently overwritten.

    On PostgreSQL the test holds the subscription's row lock until all 20 requests wait for it, so
    that they all read the same secret before any of them writes: the race happens every run."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    settings = load_settings(database_url=db_url, config_dir=config_dir, api_token=TOKEN, webhook_allow_private=True)
    app_engine = make_engine(db_url, pool_size=24, max_overflow=0)
    _warm(app_engine, 24)
    client = TestClient(create_app(settings, service=Service(settings, engine=app_engine)))
    created = client.post("/api/subscriptions", json=HOOK | {"url": httpserver.url_for("/hook")}, headers=WRITE)
    sid = created.json()["id"]

    def rotate(base: str) -> tuple[int, str | None]:
        request = urllib.request.Request(f"{base}api/subscriptions/{sid}/rotate-secret", method="POST", headers=WRITE)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())["secret"]
        except urllib.error.HTTPError as refused:
            return refused.code, None

    with serving(client.app) as base, ThreadPoolExecutor(max_workers=20) as pool, _row_locked(db_url, sid, 20):
        pending = [pool.submit(rotate, base) for _ in range(20)]
    answers = [future.result(timeout=60) for future in pending]
    assert {status for status, _ in answers} <= {200, 409}, answers
    returned = [secret for status, secret in answers if status == 200]
    assert returned, "at least one rotation succeeds"

    ping = client.post(f"/api/subscriptions/{sid}/test", headers=WRITE)
    assert ping.json()["ok"] is True
    request, _ = httpserver.log[-1]
    body, headers = request.get_data(as_text=True), dict(request.headers)
    client.close()
    app_engine.dispose()

    def signs(secret: str) -> bool:
        try:
            Webhook(secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    signing = [secret for secret in returned if signs(secret)]
    # The last successful rotation's secret signs, and so does the one it replaced (for 24 hours),
    # which was handed out too when two or more succeeded.
    assert len(signing) == min(len(returned), 2), (len(returned), len(signing))


def _warm(engine, count: int) -> None:
    """Open `count` pooled connections now, so that none is opened during the race."""
    with ExitStack() as stack:
        for _ in range(count):
            stack.enter_context(engine.connect()).execute(text("SELECT 1"))


@contextmanager
def _row_locked(db_url: str, subscription_id: str, waiters: int):
    """On PostgreSQL: hold the subscription's row lock until `waiters` other sessions wait for a lock,
    then let them go. On SQLite writers are serialised by BEGIN IMMEDIATE: nothing to hold."""
    if not db_url.startswith("postgresql"):
        yield
        return
    engine = make_engine(db_url)
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect() as holder, engine.connect() as watcher:
        transaction = holder.begin()
        holder.execute(text("SELECT id FROM subscriptions WHERE id = :id FOR UPDATE"), {"id": subscription_id})
        try:
            yield
            for _ in range(600):
                if watcher.execute(waiting).scalar() >= waiters:
                    break
                threading.Event().wait(0.05)
        finally:
            transaction.commit()
    engine.dispose()
