"""News that moves a date, end to end through the CLI: feeds in French, English and German on a local
server, a poll that makes one proposal from three articles, an accept that changes one line of
milestones.yaml, and the `milestone.rescheduled` notice at a local receiver. SQLite and PostgreSQL."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from tests.alerts.receiver import Receiver
from tests.feeds.builders import Item, rss
from tests.feeds.server import LocalServer, static
from timeline.cli import app

PUBLISHED = "Sun, 01 Mar 2026 10:00:00 GMT"
ARTICLES = {
    "fr": [
        Item(
            "Anthropic repousse à 2028 l'achèvement de ses centres de données américains",
            guid="fr-1",
            link="https://news.example.org/fr-1",
            summary="Le chantier, lancé en 2025, prendra un an de plus que prévu.",
            published=PUBLISHED,
        )
    ],
    "en": [
        Item(
            "Anthropic data centres: a year late",
            guid="en-1",
            link="https://news.example.org/en-1",
            summary="Anthropic's US data centre construction is now expected to wrap up in 2028.",
            published=PUBLISHED,
        ),
        Item(
            "Anthropic's other projects on schedule",
            guid="en-2",
            link="https://news.example.org/en-2",
            summary="Anthropic says its offices remain on track for completion in 2027.",
            published=PUBLISHED,
        ),
    ],
    "de": [
        Item(
            "Anthropic verschiebt Rechenzentren",
            guid="de-1",
            link="https://news.example.org/de-1",
            summary="Der Bau der Rechenzentren von Anthropic in den USA soll erst 2028 abgeschlossen werden.",
            published=PUBLISHED,
        )
    ],
}


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    server = LocalServer().start()
    for lang, items in ARTICLES.items():
        server.route(f"/{lang}.xml", static(rss(*items), headers={"Content-Type": "application/rss+xml"}))
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def env(
    db_url: str, milestones_config: Path, feeds: LocalServer, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> Path:
    langs = {"fr": "    lang: fr\n", "en": "", "de": "    lang: de-DE\n"}  # English: detected
    (milestones_config / "feeds.yaml").write_text(
        "feeds:\n"
        + "".join(
            f"  - id: news-{lang}\n"
            f"    url: {feeds.url(f'/{lang}.xml')}\n"
            "    match: {any: [Anthropic]}\n"
            "    milestones: [anthropic-us-construction]\n"
            "    notify_backlog: true\n" + line
            for lang, line in langs.items()
        )
    )
    (milestones_config / "subscriptions.yaml").write_text(
        "subscriptions:\n"
        "  - id: ops\n"
        f"    url: {receiver.url('/hook')}\n"
        "    events: ['milestone.slip_reported', 'milestone.rescheduled']\n"
        "    format: standard\n"
        "    secret_env: E2E_SECRET\n"
    )
    for name, value in {
        "TIMELINE_CONFIG_DIR": str(milestones_config),
        "TIMELINE_DATABASE_URL": db_url,
        "TIMELINE_FEED_ALLOW_PRIVATE": "true",
        "TIMELINE_WEBHOOK_ALLOW_PRIVATE": "true",
        "E2E_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }.items():
        monkeypatch.setenv(name, value)
    return milestones_config


def _run(args: list[str], code: int = 0) -> Any:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result.output


def _hooks(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received if r.path == "/hook"]


def test_news_in_three_languages_propose_one_slip_that_accepting_writes_back_and_reschedules(
    env: Path, receiver: Receiver
) -> None:
    before = (env / "milestones.yaml").read_text()
    with freeze_time("2026-03-02T08:00:00Z", tick=True):
        _run(["once", "--json"])

    proposals = _run(["proposals", "--json"])
    assert len(proposals) == 1
    p = proposals[0]
    assert (p["milestone"], p["field"], p["status"]) == ("anthropic-us-construction", "ends", "open")
    assert p["current_window"]["text"] == "2027" and p["proposed_window"]["text"] == "2028"
    assert (p["slip_days"], p["direction"]) == (366, "later")
    assert {e["language"] for e in p["evidence"]} == {"fr", "en", "de"}
    assert {e["link"] for e in p["evidence"]} == {
        "https://news.example.org/fr-1",
        "https://news.example.org/en-1",
        "https://news.example.org/de-1",
    }
    french = next(e for e in p["evidence"] if e["language"] == "fr")
    assert french["phrase"] == "repousse à 2028"
    assert french["feed_id"] == "news-fr"

    slips = [h for h in _hooks(receiver) if h["type"] == "milestone.slip_reported"]
    assert len(slips) == 1  # three articles, one proposal, one notice
    data = slips[0]["data"]
    assert data["proposal"] == p["id"] and data["slip_days"] == 366
    assert data["proposed_window"]["start"] == "2028-01-01T00:00:00Z"
    assert data["message"]["headline"] == "Slip reported: Construction of Anthropic's US data centres"
    assert data["message"]["link"] in {e["link"] for e in p["evidence"]}

    human = _run(["proposals"])
    assert f"#{p['id']} anthropic-us-construction" in human and "end 2027 → 2028 (366 days later)" in human

    with freeze_time("2026-03-02T09:00:00Z", tick=True):
        accepted = _run(["proposals", "accept", str(p["id"]), "--json"])
    assert accepted["proposal"]["status"] == "accepted"
    after = (env / "milestones.yaml").read_text()
    changed = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    assert [line for line in changed if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-    ends: 2027                # due and overdue follow `ends` (due 2028-01-01T00:00:00Z)",
        "+    ends: 2028                # due and overdue follow `ends` (due 2028-01-01T00:00:00Z)",
    ]
    assert _run(["proposals", "--json"]) == []
    assert "already accepted" in _run(["proposals", "accept", str(p["id"])], code=1)

    with freeze_time("2026-03-02T09:01:00Z", tick=True):
        _run(["once", "--json"])
    rescheduled = [h for h in _hooks(receiver) if h["type"] == "milestone.rescheduled"]
    assert len(rescheduled) == 1
    assert rescheduled[0]["data"]["milestone"] == "anthropic-us-construction"
    assert rescheduled[0]["data"]["slip_days"] == 366
    assert rescheduled[0]["data"]["window"]["due_at"] == "2029-01-01T00:00:00Z"
