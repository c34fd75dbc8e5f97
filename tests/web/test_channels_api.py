"""Email and Apprise subscriptions and quiet hours through the API: accepted, shown, refused naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.conftest import WRITE

MAIL = {"format": "email", "to": ["ops@example.org"], "events": ["milestone.*"], "quiet": "22:00-07:00 Europe/Paris"}


def test_an_email_subscription_with_quiet_hours(client: TestClient) -> None:
    made = client.post("/api/subscriptions", json=MAIL, headers=WRITE)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["format"], body["to"], body["url"], body["quiet"]) == (
        "email",
        ["ops@example.org"],
        "mailto:ops@example.org",
        "22:00-07:00 Europe/Paris",
    )
    shown = client.get(f"/api/subscriptions/{body['id']}").json()
    assert shown["to"] == ["***@example.org"]  # addresses are for holders of the write token
    patched = client.patch(
        f"/api/subscriptions/{body['id']}",
        json={"to": ["a@example.org", "b@example.org"], "quiet": None},
        headers=WRITE,
    ).json()
    assert (patched["to"], patched["quiet"]) == (["a@example.org", "b@example.org"], None)


def test_an_apprise_subscription(client: TestClient) -> None:
    made = client.post(
        "/api/subscriptions", json={"format": "apprise", "url": "ntfys://ntfy.example.org/topic"}, headers=WRITE
    )
    assert made.status_code == 201, made.text
    assert made.json()["url"] == "ntfys://ntfy.example.org/topic"
    assert client.get(f"/api/subscriptions/{made.json()['id']}").json()["url"] == "ntfys://ntfy.example.org/***"


def test_bad_channel_fields_are_422_naming_the_field(client: TestClient) -> None:
    cases = [
        ({"format": "email"}, "to", "format email needs `to`"),
        ({"format": "email", "to": ["ops.example.org"]}, "to", "needs an @"),
        ({"format": "email", "to": ["a@example.org"], "url": "https://x.example.org/"}, "url", "not a url"),
        ({"format": "apprise", "url": "foo://bar/baz"}, "url", "foo:// is not a service Apprise knows"),
        ({"format": "apprise", "url": "json://10.0.0.1/x"}, "url", "10.0.0.1 is a private address"),
        ({"url": "https://hooks.example.org/x", "to": ["a@example.org"]}, "to", "for format email only"),
        ({"url": "https://hooks.example.org/x", "quiet": "22:00-07:00 Mars/Olympus"}, "quiet", "not a time zone"),
        ({"url": "https://hooks.example.org/x", "quiet": "22:00-22:00"}, "quiet", "same time"),
        ({"format": "pigeon", "url": "https://hooks.example.org/x"}, "format", ""),
    ]
    for body, field, says in cases:
        answer = client.post("/api/subscriptions", json=body, headers=WRITE)
        assert answer.status_code == 422, (body, answer.text)
        error = answer.json()["error"]
        assert error["field"] == field, (body, error)
        assert says in error["message"], (body, error)


def test_digest_schedules_are_kept_normalised_or_refused_naming_digest(client: TestClient) -> None:
    hook = {"url": "https://hooks.example.org/x", "format": "slack"}
    made = client.post("/api/subscriptions", json=hook | {"digest": "Weekly Monday 9:00 Europe/Paris"}, headers=WRITE)
    assert made.status_code == 201, made.text
    assert made.json()["digest"] == "weekly mon 09:00 Europe/Paris"
    for bad, says in (("hourly", "is not a digest schedule"), ("daily 09:00 Nowhere/Land", "not a time zone")):
        answer = client.post("/api/subscriptions", json=hook | {"digest": bad}, headers=WRITE)
        assert answer.status_code == 422
        assert answer.json()["error"]["field"] == "digest"
        assert says in answer.json()["error"]["message"]


def test_leaving_email_for_a_webhook_needs_a_url(client: TestClient) -> None:
    sid = client.post("/api/subscriptions", json=MAIL, headers=WRITE).json()["id"]
    answer = client.patch(f"/api/subscriptions/{sid}", json={"format": "slack"}, headers=WRITE)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "url"
    moved = {"format": "slack", "url": "https://hooks.example.org/x"}
    changed = client.patch(f"/api/subscriptions/{sid}", json=moved, headers=WRITE).json()
    assert (changed["format"], changed["url"], changed["to"]) == ("slack", "https://hooks.example.org/x", [])
