"""The API's edges: what is refused before a body is read or parsed, and what no field can hold.

The byte-level checks run against a real uvicorn server on 127.0.0.1 through a raw socket, so that
"refused before the body is read" is observed, not assumed: the client announces a 33 MB body,
sends a few bytes of it, and the answer must come without the rest.
"""

from __future__ import annotations

import json
import re
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.web.conftest import READ_TOKEN, TOKEN, WRITE, serving
from timeline.web.api_alerts import masked_url
from timeline.web.edges import MAX_BODY_BYTES, MAX_JSON_DEPTH, nests_deeper_than
from timeline.web.schemas import MAX_ATTRIBUTES_BYTES

NEW = {"id": "edge", "title": "Edge", "when": "2027"}
HOOK = {"url": "https://hooks.example.com/timeline"}


def _raw(url: str, head: str, body: bytes = b"", *, timeout: float = 5.0) -> bytes:
    """Send `head` and `body` on a fresh connection; the first bytes of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after its answer
            answer += chunk
        return answer


def _post_head(length: int, *, token: str | None) -> str:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        "POST /api/milestones HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {length}\r\nConnection: close\r\n"
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_unauthenticated_write_is_refused_before_its_body_is_read(client):
    with serving(client.app) as url:
        answer = _raw(url, _post_head(33_000_000, token=None), b"{" * 1024)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"TIMELINE_API_TOKEN" in answer


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_body_announced_over_the_limit_is_refused_before_it_is_read(client):
    with serving(client.app) as url:
        answer = _raw(url, _post_head(33_000_000, token=TOKEN), b"{" * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"] == {
        "code": "too_large",
        "message": f"the request body is larger than {MAX_BODY_BYTES:,} bytes, the most this API accepts",
        "field": "body",
    }


def test_a_streamed_body_over_the_limit_is_refused_and_nothing_is_stored(client):
    def chunks():
        yield json.dumps(NEW | {"notes": ""}).encode()[:-2]
        for _ in range(20):
            yield b"x" * 65536

    response = client.post("/api/milestones", content=chunks(), headers=WRITE | {"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "body"
    assert client.get("/api/milestones/edge").status_code == 404


def test_a_body_just_within_the_limit_is_read_whole(client):
    body = json.dumps(NEW | {"notes": "n" * (MAX_BODY_BYTES - 200)})
    assert len(body) <= MAX_BODY_BYTES
    response = client.post("/api/milestones", content=body, headers=WRITE | {"Content-Type": "application/json"})
    assert response.status_code == 201, response.text[:300]
    assert client.get("/api/milestones/edge").json()["notes"] == "n" * (MAX_BODY_BYTES - 200)


def test_writes_are_refused_in_the_same_words_with_or_without_a_body(make_client):
    client = make_client(api_token=None)
    for response in (
        client.post("/api/milestones", json=NEW, headers=WRITE),
        client.delete("/api/milestones/edge", headers=WRITE),
    ):
        assert response.status_code == 403
        assert "set TIMELINE_API_TOKEN" in response.json()["error"]["message"]


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 256, 500, 5000])
def test_json_nested_too_deep_is_a_422_and_the_listings_keep_working(client, depth):
    attributes: Any = "leaf"
    for _ in range(depth):
        attributes = {"a": attributes}
    body = json.dumps(NEW | {"attributes": attributes}) if depth < 900 else '{"attributes":' + "[" * depth
    response = client.post("/api/milestones", content=body, headers=WRITE | {"Content-Type": "application/json"})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"]["field"] == "body"
    assert f"more than {MAX_JSON_DEPTH} deep" in response.json()["error"]["message"]
    assert client.get("/api/milestones").status_code == 200
    assert client.get("/api/milestones/edge").status_code == 404


def test_attributes_have_a_depth_and_a_size_limit(client):
    deep: Any = 1
    for _ in range(9):
        deep = [deep]
    too_deep = client.post("/api/milestones", json=NEW | {"attributes": {"a": deep}}, headers=WRITE)
    assert too_deep.status_code == 422
    assert too_deep.json()["error"] == {
        "code": "invalid",
        "message": "attributes: nested 10 deep; at most 8 levels of objects and arrays",
        "field": "attributes",
    }
    big = client.post("/api/milestones", json=NEW | {"attributes": {"a": "x" * MAX_ATTRIBUTES_BYTES}}, headers=WRITE)
    assert big.status_code == 422
    assert big.json()["error"]["field"] == "attributes"
    assert f"at most {MAX_ATTRIBUTES_BYTES:,}" in big.json()["error"]["message"]
    patched = client.patch("/api/milestones/x", json={"attributes": {"a": deep}}, headers=WRITE)
    assert patched.status_code == 422 and patched.json()["error"]["field"] == "attributes"
    assert client.get("/api/milestones/edge").status_code == 404
    fits = {"nested": {"a": [1, {"b": [2, {"c": 3}]}]}, "investment_usd": 50_000_000_000}
    stored = client.post("/api/milestones", json=NEW | {"attributes": fits}, headers=WRITE)
    assert stored.status_code == 201
    assert client.get("/api/milestones").status_code == 200
    assert client.get("/api/milestones/edge").json()["attributes"] == fits


MILESTONE_TEXT = ["id", "title", "subject", "when", "timezone", "source", "notes"]
SUBSCRIPTION_TEXT = ["url", "description"]


@pytest.mark.parametrize("bad", ["\\ud800", "a\\udfffb", "\\u0000", "x\\u0000y"])
@pytest.mark.parametrize("field", [*MILESTONE_TEXT, "tags", "remind", "attributes", "attribute-key"])
def test_lone_surrogates_and_nuls_are_422_naming_the_field_in_milestones(client, field, bad):
    text = f'"{bad}"'
    shapes = {
        "tags": f"[{text}]",
        "remind": f"[{text}]",
        "attributes": f'{{"k": {text}}}',
        "attribute-key": f"{{{text}: 1}}",
    }
    name = "attributes" if field == "attribute-key" else field
    others = json.dumps({k: v for k, v in NEW.items() if k != name})
    raw = others[:-1] + f', "{name}": {shapes.get(field, text)}}}'
    response = client.post("/api/milestones", content=raw, headers=WRITE | {"Content-Type": "application/json"})
    assert response.status_code == 422, (field, response.text)
    assert response.json()["error"]["field"] == name
    listed = client.get("/api/milestones")
    assert listed.status_code == 200
    assert "edge" not in [m["id"] for m in listed.json()]
    if name != "id":
        patch = f'{{"{name}": {shapes.get(field, text)}}}'
        patched = client.patch("/api/milestones/x", content=patch, headers=WRITE | {"Content-Type": "application/json"})
        assert patched.status_code == 422 and patched.json()["error"]["field"] == name


@pytest.mark.parametrize("bad", ["\\ud800", "\\u0000"])
@pytest.mark.parametrize("field", [*SUBSCRIPTION_TEXT, "events", "tags", "subjects"])
def test_lone_surrogates_and_nuls_are_422_naming_the_field_in_subscriptions(client, field, bad):
    text = f'"{bad}"'
    value = f"[{text}]" if field in ("events", "tags", "subjects") else text
    others = {k: v for k, v in HOOK.items() if k != field}
    raw = json.dumps(others)[:-1] + ("," if others else "") + f' "{field}": {value}}}'
    response = client.post("/api/subscriptions", content=raw, headers=WRITE | {"Content-Type": "application/json"})
    assert response.status_code == 422, (field, response.text)
    assert response.json()["error"]["field"] == field
    assert client.get("/api/subscriptions").json() == []


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('[]{}"\\ab,:')),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=60,
)


@given(JSON, st.integers(min_value=0, max_value=12))
def test_the_depth_check_agrees_with_the_parsed_value(value, limit):
    text = json.dumps(value).encode()
    assert nests_deeper_than(text, limit) == (_depth(value) > limit)


@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=40))
def test_the_depth_check_never_raises(body, limit):
    assert nests_deeper_than(body, limit) in (True, False)


def test_webhook_urls_are_masked_for_readers_without_the_write_token(make_client):
    client = make_client(api_read_token=READ_TOKEN)
    url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET?x=1"
    created = client.post("/api/subscriptions", json={"url": url, "format": "slack"}, headers=WRITE)
    assert created.status_code == 201
    assert created.json()["url"] == url
    sid = created.json()["id"]
    read = {"Authorization": f"Bearer {READ_TOKEN}"}
    assert [s["url"] for s in client.get("/api/subscriptions", headers=read).json()] == ["https://hooks.slack.com/***"]
    assert client.get(f"/api/subscriptions/{sid}", headers=read).json()["url"] == "https://hooks.slack.com/***"
    assert client.get(f"/api/subscriptions/{sid}", headers=WRITE).json()["url"] == url
    assert [s["url"] for s in client.get("/api/subscriptions", headers=WRITE).json()] == [url]


def test_webhook_urls_are_masked_when_reads_are_open(client):
    url = "https://discord.com/api/webhooks/123/tokentoken"
    client.post("/api/subscriptions", json={"url": url, "format": "discord"}, headers=WRITE)
    assert [s["url"] for s in client.get("/api/subscriptions").json()] == ["https://discord.com/***"]
    assert [s["url"] for s in client.get("/api/subscriptions", headers={"Authorization": "Bearer no"}).json()] == [
        "https://discord.com/***"
    ]


def test_locations_come_from_the_public_url_not_the_host_header(make_client):
    client = make_client(public_url="https://timeline.example.org/team/")
    evil = WRITE | {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    created = client.post("/api/milestones", json=NEW, headers=evil)
    assert created.headers["location"] == "https://timeline.example.org/team/api/milestones/edge"
    hook = client.post("/api/subscriptions", json=HOOK, headers=evil)
    assert hook.headers["location"].startswith("https://timeline.example.org/team/api/subscriptions/sub_")


def test_without_a_public_url_links_point_at_the_listen_address(make_client):
    client = make_client(host="0.0.0.0", port=8123)
    created = client.post("/api/milestones", json=NEW, headers=WRITE | {"Host": "evil.example"})
    assert created.headers["location"] == "http://0.0.0.0:8123/api/milestones/edge"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/***"),
        ("https://user:pw@example.org:8443/?token=abc", "https://example.org:8443/***"),
        ("http://[::1]:9/hook#frag", "http://[::1]:9/***"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org:99999/x", "***"),
    ],
)
def test_a_masked_url_keeps_scheme_host_and_port_only(url, shown):
    assert masked_url(url) == shown


@given(st.text(max_size=200))
def test_masking_never_raises_and_never_shows_a_path(text):
    shown = masked_url(text)
    assert shown == "***" or re.fullmatch(r"[^/]*://[^/]*/(\*\*\*)?", shown), shown
