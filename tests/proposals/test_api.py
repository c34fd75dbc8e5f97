"""GET /api/proposals, accept and reject, on SQLite and PostgreSQL: an API milestone is edited by the
API's own function, a config one written back; unknown ids and second decisions are clear errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.feeds.builders import Item, rss
from tests.feeds.server import LocalServer, static
from tests.web.conftest import NOW, WRITE

ITEMS = rss(
    Item(
        "Anthropic repousse à 2028 l'achèvement de ses centres de données",
        guid="a",
        link="https://news.example.org/a",
        summary="Le chantier prendra un an de plus.",
        published="Thu, 15 Jan 2026 10:00:00 GMT",
    ),
    Item(
        "Le site pilote d'Anthropic ouvrira au deuxième trimestre 2027",
        guid="b",
        link="https://news.example.org/b",
        published="Thu, 15 Jan 2026 10:00:00 GMT",
    ),
)


@pytest.fixture
def feeds() -> Iterator[LocalServer]:
    server = LocalServer().start()
    server.route("/fr.xml", static(ITEMS, headers={"Content-Type": "application/rss+xml"}))
    yield server
    server.stop()


@pytest.fixture
def polled(make_client: Callable[..., TestClient], config_dir: Path, feeds: LocalServer) -> TestClient:
    (config_dir / "feeds.yaml").write_text(
        "feeds:\n  - id: fr\n"
        f"    url: {feeds.url('/fr.xml')}\n"
        "    match: {any: [Anthropic]}\n    milestones: [anthropic-us-construction, pilot]\n    lang: fr\n"
        "    notify_backlog: true\n"
    )
    client = make_client(feed_allow_private=True, sync=False)
    created = client.post(
        "/api/milestones", headers=WRITE, json={"id": "pilot", "title": "Pilot site", "when": "2026-Q3"}
    )
    assert created.status_code == 201, created.text
    service = client.app.state.service  # type: ignore[attr-defined]
    assert service.reload_config(NOW, force=True) is not None
    service.poll_feeds(NOW)
    return client


def _open(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    answer = client.get("/api/proposals")
    assert answer.status_code == 200
    return {(p["milestone"], p["proposed_window"]["text"]): p for p in answer.json()}


def test_proposals_are_listed_with_their_evidence_and_accepting_an_api_milestone_edits_it(polled: TestClient) -> None:
    found = _open(polled)
    # each item states one date; both are linked to both milestones; Q2 2027 is inside the span's end
    assert set(found) == {("anthropic-us-construction", "2028"), ("pilot", "2028"), ("pilot", "2027-Q2")}
    pilot = found[("pilot", "2027-Q2")]
    assert (pilot["field"], pilot["current_window"]["text"], pilot["proposed_window"]["text"]) == (
        "when",
        "2026-Q3",
        "2027-Q2",
    )
    assert pilot["evidence"][0]["phrase"] == "deuxième trimestre 2027"
    assert pilot["evidence"][0]["language"] == "fr"
    assert polled.get(f"/api/proposals/{pilot['id']}").json() == pilot

    assert polled.post(f"/api/proposals/{pilot['id']}/accept").status_code == 401
    accepted = polled.post(f"/api/proposals/{pilot['id']}/accept", headers=WRITE)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert polled.get("/api/milestones/pilot").json()["due_at"] == "2027-07-01T00:00:00Z"
    again = polled.post(f"/api/proposals/{pilot['id']}/accept", headers=WRITE)
    assert again.status_code == 409 and "already accepted" in again.json()["error"]["message"]


def test_rejecting_keeps_the_reason_and_the_milestone_and_unknown_ids_are_404(
    polled: TestClient, config_dir: Path
) -> None:
    before = (config_dir / "milestones.yaml").read_bytes()
    construction = _open(polled)[("anthropic-us-construction", "2028")]
    rejected = polled.post(f"/api/proposals/{construction['id']}/reject", headers=WRITE, json={"reason": "a rumour"})
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["reason"]) == ("rejected", "a rumour")
    assert (config_dir / "milestones.yaml").read_bytes() == before
    assert ("anthropic-us-construction", "2028") not in _open(polled)
    listed = polled.get("/api/proposals", params={"status": "rejected"}).json()
    assert [p["id"] for p in listed] == [construction["id"]]
    missing = polled.get("/api/proposals/999")
    assert missing.status_code == 404 and "no proposal 999" in missing.json()["error"]["message"]
    assert polled.post("/api/proposals/999/reject", headers=WRITE).status_code == 404


def test_an_edit_of_the_file_since_the_proposal_refuses_the_accept(polled: TestClient, config_dir: Path) -> None:
    construction = _open(polled)[("anthropic-us-construction", "2028")]
    path = config_dir / "milestones.yaml"
    edited = path.read_text().replace("subject: Microsoft", "subject: Microsoft Corp")
    path.write_text(edited)
    refused = polled.post(f"/api/proposals/{construction['id']}/accept", headers=WRITE)
    assert refused.status_code == 409
    assert "changed since this proposal was made" in refused.json()["error"]["message"]
    assert path.read_text() == edited
    assert _open(polled)[("anthropic-us-construction", "2028")]["status"] == "open"


def test_the_page_and_the_atom_feed_show_open_proposals_and_the_calendar_waits_for_the_accept(
    polled: TestClient,
) -> None:
    page = polled.get("/").text
    assert "Proposed dates" in page
    assert "end 2027 → 2028 (366 days later)" in page
    assert "“Anthropic repousse à 2028 l&#39;achèvement de ses centres de données”" in page
    assert 'href="https://news.example.org/a"' in page
    atom = polled.get("/notices.atom").text
    assert atom.count("<title>Slip reported: Construction of Anthropic's US data centres</title>") == 1
    assert atom.count("<title>Slip reported: Pilot site</title>") == 2
    assert "gives its end as 2028 (1 Jan – 31 Dec 2028), not 2027 (1 Jan – 31 Dec 2027)" in atom

    calendar = polled.get("/timeline.ics").text
    assert "20280101" in calendar and "20290101" not in calendar  # still due on 1 January 2028
    construction = _open(polled)[("anthropic-us-construction", "2028")]
    assert polled.post(f"/api/proposals/{construction['id']}/accept", headers=WRITE).status_code == 200
    assert "Proposed dates" in polled.get("/").text  # the pilot's two are still open
    assert "20290101" in polled.get("/timeline.ics").text
