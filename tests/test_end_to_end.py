"""The whole product through its CLI: config files in, a feed on 127.0.0.1, a signed webhook out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner

from tests.alerts.receiver import Receiver, Reply
from tests.feeds.builders import Item, rss
from timeline.cli import app

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def server() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def env(tmp_path: Path, milestones_config: Path, server: Receiver, monkeypatch: pytest.MonkeyPatch) -> Path:
    feed = rss(
        Item("Anthropic breaks ground on a new data center in Texas", guid="a1", link="http://127.0.0.1/a1"),
        Item("Unrelated: quarterly results", guid="a2", link="http://127.0.0.1/a2"),
    )
    server.reply("/feed.xml", Reply(body=feed.decode(), headers={"Content-Type": "application/rss+xml"}))
    (milestones_config / "feeds.yaml").write_text(
        "feeds:\n"
        "  - id: local-news\n"
        f"    url: {server.url('/feed.xml')}\n"
        "    match: {all: [Anthropic], any: ['data center*']}\n"
        "    milestones: [anthropic-us-construction]\n"
        "    notify_backlog: true\n"
    )
    (milestones_config / "subscriptions.yaml").write_text(
        "subscriptions:\n"
        "  - id: ops\n"
        f"    url: {server.url('/hook')}\n"
        "    events: ['feed.*', 'milestone.*']\n"
        "    secret_env: E2E_SECRET\n"
    )
    for name, value in {
        "TIMELINE_CONFIG_DIR": str(milestones_config),
        "TIMELINE_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "TIMELINE_FEED_ALLOW_PRIVATE": "true",
        "TIMELINE_WEBHOOK_ALLOW_PRIVATE": "true",
        "E2E_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    return milestones_config


def _json(args: list[str]) -> object:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_matching_item_reaches_the_subscriber_signed_and_can_be_redelivered(env: Path, server: Receiver) -> None:
    with freeze_time("2027-12-31T23:59:00Z", tick=True):
        report = _json(["once", "--json"])
    assert report["feeds_polled"] == 1  # type: ignore[index]
    assert report["deliveries"]["delivered"] == 1  # type: ignore[index]

    hooks = [r for r in server.received if r.path == "/hook"]
    assert len(hooks) == 1
    with freeze_time("2027-12-31T23:59:00Z"):  # verify at the time it was signed
        payload = Webhook(SECRET).verify(hooks[0].body, hooks[0].headers)
    assert payload["type"] == "feed.item_matched"
    assert payload["data"]["title"] == "Anthropic breaks ground on a new data center in Texas"
    assert payload["data"]["milestones"] == ["anthropic-us-construction"]

    views = {v["id"]: v for v in _json(["list", "--evidence", "--json"])}  # type: ignore[union-attr]
    evidence = views["anthropic-us-construction"]["evidence"]
    assert [e["title"] for e in evidence] == ["Anthropic breaks ground on a new data center in Texas"]

    (delivery,) = _json(["deliveries", "--json"])  # type: ignore[misc]
    assert delivery["status"] == "delivered"
    result = CliRunner().invoke(app, ["redeliver", str(delivery["id"])])
    assert result.exit_code == 0, result.output
    with freeze_time("2027-12-31T23:59:30Z", tick=True):
        _json(["once", "--json"])
    again = [r for r in server.received if r.path == "/hook"]
    assert len(again) == 2
    assert again[1].headers["webhook-id"] == hooks[0].headers["webhook-id"]

    with freeze_time("2028-01-01T00:00:05Z", tick=True):
        _json(["once", "--json"])
    types = [json.loads(r.body)["type"] for r in server.received if r.path == "/hook"]
    assert types.count("milestone.due") == 1


def test_subscriptions_cli(env: Path, server: Receiver) -> None:
    assert CliRunner().invoke(app, ["sync"]).exit_code == 0
    created = _json(["subscriptions", "add", server.url("/other"), "--events", "milestone.*", "--json"])
    secret = created["secret"]  # type: ignore[index]
    sub_id = created["subscription"]["id"]  # type: ignore[index]
    assert secret.startswith("whsec_")
    listed = {s["id"] for s in _json(["subscriptions", "list", "--json"])}  # type: ignore[union-attr]
    assert {sub_id, "ops"} <= listed

    result = CliRunner().invoke(app, ["subscriptions", "test", sub_id])
    assert result.exit_code == 0, result.output
    ping = next(r for r in server.received if r.path == "/other")
    assert Webhook(secret).verify(ping.body, ping.headers)["type"] == "test.ping"

    result = CliRunner().invoke(app, ["subscriptions", "remove", "ops"])
    assert result.exit_code == 1
    assert "declared in the config file" in result.output
    assert CliRunner().invoke(app, ["subscriptions", "remove", sub_id]).exit_code == 0


def test_a_private_target_is_refused_when_not_allowed(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMELINE_WEBHOOK_ALLOW_PRIVATE", "false")
    (env / "subscriptions.yaml").unlink()
    result = CliRunner().invoke(app, ["subscriptions", "add", "http://127.0.0.1:9/x"])
    assert result.exit_code == 1
    assert "url: http://127.0.0.1:9/x: 127.0.0.1 is a loopback address" in result.output
