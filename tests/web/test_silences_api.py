"""Silences through the API and on the page, over a real database."""

from __future__ import annotations

from fastapi.testclient import TestClient
from freezegun import freeze_time

from tests.web.conftest import WRITE

MUTE = {"milestone": "anthropic-us-construction", "until": "2026-04-01", "reason": "being renegotiated"}


@freeze_time("2026-03-01T12:00:00Z")
def test_add_list_and_expire_a_silence(client: TestClient) -> None:
    made = client.post("/api/silences", json=MUTE, headers=WRITE)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["id"].startswith("sil_")
    assert made.headers["location"].endswith(f"/api/silences/{body['id']}")
    assert (body["subject"], body["tag"], body["types"]) == ("anthropic-us-construction", None, "*")
    assert (body["starts_at"], body["ends_at"]) == ("2026-03-01T12:00:00Z", "2026-04-01T00:00:00Z")
    assert [s["id"] for s in client.get("/api/silences").json()] == [body["id"]]

    page = client.get("/")
    assert "Silences" in page.text
    assert "Milestone anthropic-us-construction" in page.text
    assert "1 Apr 2026, 00:00 UTC" in page.text
    assert "being renegotiated" in page.text

    ended = client.delete(f"/api/silences/{body['id']}", headers=WRITE)
    assert ended.status_code == 200, ended.text
    assert ended.json()["expired_at"] == "2026-03-01T12:00:00Z"
    assert client.get("/api/silences").json() == []
    assert [s["id"] for s in client.get("/api/silences?all=true").json()] == [body["id"]]
    assert "Silences" not in client.get("/").text


@freeze_time("2026-03-01T12:00:00Z")
def test_writes_need_the_write_token(client: TestClient) -> None:
    assert client.post("/api/silences", json=MUTE).status_code == 401
    assert client.delete("/api/silences/sil_x").status_code == 401


@freeze_time("2026-03-01T12:00:00Z")
def test_bad_silences_are_refused_naming_the_field(client: TestClient) -> None:
    cases = [
        ({**MUTE, "until": "soon"}, "until", "is not a date"),
        ({**MUTE, "until": "2026-02-01"}, "until", "already past"),
        ({**MUTE, "tag": "us"}, "milestone", "either a milestone or a tag"),
        ({"until": "2026-04-01", "reason": "x"}, "milestone", "either a milestone or a tag"),
        ({**MUTE, "reason": " "}, "reason", "non-empty"),
    ]
    for body, field, says in cases:
        answer = client.post("/api/silences", json=body, headers=WRITE)
        assert answer.status_code == 422, body
        error = answer.json()["error"]
        assert error["field"] == field, body
        assert says in error["message"], body


def test_expiring_an_unknown_silence_is_404(client: TestClient) -> None:
    answer = client.delete("/api/silences/sil_nope", headers=WRITE)
    assert answer.status_code == 404
    assert "timeline silences" in answer.json()["error"]["message"]
