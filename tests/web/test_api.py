"""The JSON API over a real database: auth, errors, milestones written through the API, pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest
from freezegun import freeze_time

from alerts.notices import NewNotice, publish
from tests.web.conftest import NOW, READ_TOKEN, TOKEN, WRITE

NEW = {"id": "google-iowa", "title": "Google's Iowa expansion", "subject": "Google", "when": "2026-09", "tags": ["g"]}


def error(response, status: int, code: str, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["field"] == field
    return str(body["error"]["message"])


def test_reads_are_open_and_writes_refused_without_a_configured_token(make_client):
    client = make_client(api_token=None)
    assert client.get("/api/milestones").status_code == 200
    message = error(client.post("/api/milestones", json=NEW, headers=WRITE), 403, "forbidden")
    assert "TIMELINE_API_TOKEN" in message


def test_writes_need_the_right_bearer_token(client):
    missing = client.post("/api/milestones", json=NEW)
    error(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    error(client.post("/api/milestones", json=NEW, headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    error(client.delete("/api/milestones/x", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "unauthorized")
    error(
        client.post("/api/milestones", json=NEW, headers={"Authorization": "Bearer é€".encode()}), 401, "unauthorized"
    )
    assert client.post("/api/milestones", json=NEW, headers=WRITE).status_code == 201


def test_a_read_token_closes_reads(make_client):
    client = make_client(api_read_token=READ_TOKEN)
    error(client.get("/api/milestones"), 401, "unauthorized")
    error(client.get("/api/notices", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    error(client.get("/timeline.ics"), 401, "unauthorized")
    assert client.get("/api/milestones", headers={"Authorization": f"Bearer {READ_TOKEN}"}).status_code == 200
    assert client.get("/api/milestones", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/timeline.ics", params={"token": READ_TOKEN}).status_code == 200
    assert client.get("/healthz").status_code == 200
    # The read token does not grant writes.
    read = {"Authorization": f"Bearer {READ_TOKEN}"}
    error(client.post("/api/milestones", json=NEW, headers=read), 401, "unauthorized")


def test_config_owned_milestones_answer_409_naming_the_file(client, config_dir):
    for response in (
        client.patch("/api/milestones/microsoft-sweden", json={"status": "done"}, headers=WRITE),
        client.delete("/api/milestones/microsoft-sweden", headers=WRITE),
        client.post("/api/milestones", json=NEW | {"id": "microsoft-sweden"}, headers=WRITE),
    ):
        message = error(response, 409, "conflict")
        assert str(config_dir / "milestones.yaml") in message
        assert "edit that file" in message
    assert client.get("/api/milestones/microsoft-sweden").json()["status"] == "planned"


def test_unknown_things_are_404_json(client):
    assert "no milestone 'nope'" in error(client.get("/api/milestones/nope"), 404, "not_found")
    error(client.patch("/api/milestones/nope", json={"title": "x"}, headers=WRITE), 404, "not_found")
    error(client.delete("/api/milestones/nope", headers=WRITE), 404, "not_found")
    error(client.get("/no/such/page"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (NEW | {"when": "2025-13"}, "when", "'2025-13' is not a date"),
        (NEW | {"colour": "red"}, "colour", "unknown field 'colour'"),
        ({k: v for k, v in NEW.items() if k != "title"}, "title", "required"),
        (NEW | {"when": None, "starts": "2027", "ends": "2026"}, "ends", "before starts"),
        (NEW | {"starts": "2026"}, "when", "not both"),
        (NEW | {"when": None}, "when", "`when` is missing"),
        (NEW | {"timezone": "Mars/Olympus"}, "timezone", "not a known time zone"),
        (NEW | {"remind": ["soon"]}, "remind.0", "pattern"),
        (NEW | {"status": "finished"}, "status", "planned"),
        (NEW | {"id": "Not An Id"}, "id", "pattern"),
        (NEW | {"when": "0001"}, "when", "out of range; years 1900 to 2999"),
        (NEW | {"remind": ["999999w"]}, "remind[0]", "longer than a century"),
        (NEW | {"title": "nul\x00byte"}, "title", "control characters"),
        (NEW | {"attributes": {"a": ["\x00"]}}, "attributes", "control characters"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, body, field, words):
    message = error(client.post("/api/milestones", json=body, headers=WRITE), 422, "invalid", field or None)
    assert words in message


def test_bad_query_parameters_name_the_parameter(client):
    assert "not a date" in error(client.get("/api/milestones", params={"from": "soon"}), 422, "invalid", "from")
    error(client.get("/api/milestones", params={"status": "bogus"}), 422, "invalid", "status")
    error(client.get("/api/notices", params={"limit": 0}), 422, "invalid", "limit")
    error(client.get("/api/notices", params={"cursor": "abc"}), 400, "bad_request", "cursor")
    error(client.get("/api/notices", params={"since": "yesterday"}), 422, "invalid", "since")
    error(client.get("/api/milestones", params={"subject": "a\x00b"}), 422, "invalid", "subject")
    error(client.get("/api/milestones/a%00b"), 404, "not_found")


def test_malformed_json_is_400(client):
    response = client.post(
        "/api/milestones", content=b"{not json", headers=WRITE | {"Content-Type": "application/json"}
    )
    error(response, 400, "bad_request", "body")


def test_milestone_lifecycle_through_the_api_keeps_history_and_notices(client):
    with freeze_time(NOW):
        created = client.post("/api/milestones", json=NEW, headers=WRITE)
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith("/api/milestones/google-iowa")
    view = created.json()
    assert view["origin"] == "api"
    assert view["revision"] == 1
    assert view["due_at"] == "2026-10-01T00:00:00Z"
    assert view["days_until_due"] == 258

    with freeze_time(NOW + timedelta(hours=1)):
        patched = client.patch(
            "/api/milestones/google-iowa", json={"when": "2027-Q1", "status": "in_progress"}, headers=WRITE
        )
    assert patched.status_code == 200, patched.text
    assert patched.json()["revision"] == 2
    assert patched.json()["window"]["text"] == "2027-Q1"

    detail = client.get("/api/milestones/google-iowa").json()
    assert [c["kind"] for c in detail["changes"]] == ["added", "rescheduled", "status_changed"]
    assert detail["changes"][1]["slip_days"] == 182
    assert {n["type"] for n in detail["notices"]} == {
        "milestone.added",
        "milestone.rescheduled",
        "milestone.status_changed",
    }
    assert detail["evidence"] == []

    # Turning a point into a span, then clearing a field back to its default.
    span = client.patch("/api/milestones/google-iowa", json={"starts": "2026", "ends": "2027"}, headers=WRITE)
    assert span.json()["kind"] == "span"
    assert client.patch("/api/milestones/google-iowa", json={"subject": None}, headers=WRITE).json()["subject"] is None

    assert client.delete("/api/milestones/google-iowa", headers=WRITE).status_code == 204
    assert client.get("/api/milestones/google-iowa").json()["archived"] is True
    assert "google-iowa" not in [m["id"] for m in client.get("/api/milestones").json()]
    error(client.post("/api/milestones", json=NEW, headers=WRITE), 409, "conflict")
    types = [n["type"] for n in client.get("/api/notices", params={"milestone": "google-iowa"}).json()["items"]]
    assert types[0] == "milestone.removed"


def test_milestone_filters(client):
    def ids(**params):
        response = client.get("/api/milestones", params=params)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()]

    assert ids() == ["anthropic-us-construction", "microsoft-sweden", "example-point"]
    assert ids(tag="datacenter") == ["anthropic-us-construction", "microsoft-sweden"]
    assert ids(status="in_progress") == ["anthropic-us-construction"]
    assert ids(subject="Microsoft") == ["microsoft-sweden"]
    assert ids(**{"from": "2026"}) == ["anthropic-us-construction", "example-point"]
    assert ids(to="2025-Q2") == ["anthropic-us-construction"]
    assert ids(**{"from": "2025-H2", "to": "2025-H2"}) == ["anthropic-us-construction", "microsoft-sweden"]


@pytest.mark.parametrize("path", ["/api/notices", "/api/deliveries"])
@pytest.mark.parametrize("cursor", ["0", "-3", "\u00b2", "12 ", "1e3", "9" * 20, str(2**62)])
def test_both_cursor_lists_refuse_a_cursor_never_given_out(client, path, cursor):
    """A cursor is the id of the last item of a page; anything else is a 400 naming `cursor`, never a 500."""
    message = error(client.get(path, params={"cursor": cursor}), 400, "bad_request", "cursor")
    assert message == f"{cursor!r} is not a cursor; pass the `next_cursor` of a previous page"


def test_a_cursor_past_every_id_gives_the_newest_page(client):
    for path in ("/api/notices", "/api/deliveries"):
        response = client.get(path, params={"cursor": str(2**62 - 1)})
        assert response.status_code == 200, response.text
        assert response.json()["next_cursor"] is None


def test_notices_paginate_with_a_cursor(client, engine):
    with engine.begin() as conn:
        publish(
            conn,
            [NewNotice("test.ping", f"test.ping:{i}", NOW, {"summary": f"ping {i}"}) for i in range(7)],
            NOW,
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"type": "test.ping", "limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/notices", params=params).json()
        seen += [n["key"] for n in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"test.ping:{i}" for i in reversed(range(7))]
    later = client.get("/api/notices", params={"since": (NOW + timedelta(days=1)).isoformat()}).json()
    assert later["items"] == []


def test_timeline_lists_milestones_in_time_order_with_windows(client):
    body = client.get("/api/timeline").json()
    entries = body["entries"]
    assert [e["milestone"]["id"] for e in entries] == ["anthropic-us-construction", "microsoft-sweden", "example-point"]
    assert entries[0]["window"]["text"] == "2025 → 2027"
    assert entries[0]["until"] == "2028-01-01T00:00:00Z"
    assert [e["milestone"]["id"] for e in client.get("/api/timeline", params={"tag": "example"}).json()["entries"]] == [
        "example-point"
    ]


def test_notices_about_a_milestone_include_those_where_it_is_not_the_first_subject(client, engine):
    """A feed item that matched two milestones is a notice about each of them."""
    item = NewNotice("feed.item", "feed.item:f:1", NOW, {"title": "both"}, subjects=("google-iowa", "microsoft-sweden"))
    with engine.begin() as conn:
        publish(conn, [item], NOW)

    def keys(milestone: str) -> set[str]:
        return {n["key"] for n in client.get("/api/notices", params={"milestone": milestone}).json()["items"]}

    assert "feed.item:f:1" in keys("google-iowa")
    assert "feed.item:f:1" in keys("microsoft-sweden")
    assert "feed.item:f:1" not in keys("example-point")
    detail = client.get("/api/milestones/microsoft-sweden").json()
    assert "feed.item:f:1" in {n["key"] for n in detail["notices"]}
    atom = client.get("/notices.atom", params={"milestone": "microsoft-sweden"}).text
    assert "urn:timeline-alerts:notice:feed.item:f:1" in atom
