"""Golden examples: one realistic notice of every type, made by the code that makes it, rendered
for Slack and Discord and checked in under `tests/alerts/golden/` to be read by eye.

Regenerate after a deliberate change of wording or rendering, then read the diff:

    .venv/bin/python -m tests.alerts.golden
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.formats import render
from alerts.message import own_message
from alerts.notices import NewNotice
from timeline import rules
from timeline.config.milestones import MilestoneDef
from timeline.dates import point, span
from timeline.feeds.decide import FeedState
from timeline.feeds.health import failing_notice, recovered_notice
from timeline.feeds.ingest import _notice as item_notice
from timeline.feeds.items import ParsedEntry
from timeline.feeds.match import MatchResult
from timeline.feeds.store import FeedRow
from timeline.sync import Change, change_notice

FOLDER = Path(__file__).parent / "golden"
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
BASE_URL = "https://timeline.example.org"
CONSTRUCTION = MilestoneDef(
    id="anthropic-us-construction",
    title="Anthropic US data centres: construction",
    schedule=span("2025", "2027"),
    subject="Anthropic",
    status="in_progress",
    tags=("anthropic", "us"),
    source="https://www.anthropic.com/news/american-ai-leadership",
)
PLANT = MilestoneDef(
    id="plant-online",
    title="Iowa plant online",
    schedule=point("2027-Q2", "America/Chicago"),
    timezone="America/Chicago",
    tags=("iowa",),
    remind=(timedelta(days=90), timedelta(days=7)),
)
FEED = FeedRow(
    id="dc-news",
    url="https://news.example.org/datacentres.xml",
    name="Data centre news",
    timeout=10.0,
    max_bytes=10_000_000,
    rule=None,
    milestones=("anthropic-us-construction",),
    tags=("anthropic",),
    notify_backlog=False,
    notify_updates=False,
    backlog_done=True,
    state=FeedState(interval=timedelta(minutes=30)),
)


DISABLED = {  # as alerts.health.disable writes it
    "subscription_id": "ops-slack",
    "host": "hooks.slack.com",
    "reason": "failing without a success since 2026-11-28T09:00:00+00:00",
    "title": "Webhook ops-slack disabled",
}


def _stage(m: MilestoneDef, notice_type: str, now: datetime) -> NewNotice:
    stage = next(s for s in rules.stages(m) if s.type == notice_type)
    return rules.stage_notice(m, stage, now, BASE_URL)


def notices() -> dict[str, NewNotice]:
    """One notice of every type, keyed by type."""
    slipped = MilestoneDef(**{**CONSTRUCTION.__dict__, "schedule": span("2025", "2028-H1")})
    done = MilestoneDef(**{**CONSTRUCTION.__dict__, "status": "done"})
    entry = ParsedEntry(
        identity="https://news.example.org/a/1",
        identity_hash="1" * 40,
        content_hash="2" * 40,
        title="Anthropic breaks ground on its Texas data centre",
        link="https://news.example.org/a/1?utm=feed&lang=en",
        published=NOW - timedelta(hours=3),
        summary="Construction of the 1 GW campus starts this month and is planned to finish in 2027.",
        text="",
    )
    hit = MatchResult(any="anthropic", all=("data centre",))
    made = [
        _stage(PLANT, "milestone.upcoming", datetime(2027, 1, 1, 6, tzinfo=UTC)),
        _stage(PLANT, "milestone.window_opened", datetime(2027, 4, 1, 5, tzinfo=UTC)),
        _stage(PLANT, "milestone.due", datetime(2027, 7, 1, 5, tzinfo=UTC)),
        _stage(CONSTRUCTION, "milestone.overdue", datetime(2028, 12, 1, 0, tzinfo=UTC)),
        change_notice(Change("added", PLANT), 1, NOW, BASE_URL),
        change_notice(Change("removed", PLANT, PLANT), 2, NOW, BASE_URL),
        change_notice(Change("rescheduled", slipped, CONSTRUCTION), 3, NOW, BASE_URL),
        change_notice(Change("status_changed", done, CONSTRUCTION), 4, NOW, BASE_URL),
        item_notice(FEED, entry, hit, ["anthropic-us-construction"], ["anthropic"], NOW, update=False),
        failing_notice(FEED, NOW - timedelta(days=1, hours=2), 9, "HTTP 503 Service Unavailable", NOW),
        recovered_notice(FEED, NOW - timedelta(days=2), NOW),
        NewNotice(
            "subscription.disabled",
            "subscription.disabled:ops:1",
            NOW,
            DISABLED | {"message": own_message("subscription.disabled", DISABLED).as_dict()},
        ),
    ]
    found = {n.type: n for n in made}
    assert all(k is not None for k in found.values())
    return found


def payloads() -> dict[str, dict[str, Any]]:
    """The payload of one notice of every type, `test.ping` as `send_test` sends it."""
    found = {kind: notice.payload() for kind, notice in notices().items()}
    ping: dict[str, Any] = {"subscription_id": "ops-slack", "title": "Test notice: this webhook works"}
    ping["message"] = own_message("test.ping", ping).as_dict()
    found["test.ping"] = {"type": "test.ping", "timestamp": "2026-12-03T09:00:00Z", "data": ping}
    return found


def rendered() -> dict[str, str]:
    """File name → text of every golden file."""
    files = {}
    for kind, payload in payloads().items():
        for fmt in ("slack", "discord"):
            files[f"{kind}.{fmt}.json"] = json.dumps(render(fmt, payload), indent=2, ensure_ascii=False) + "\n"
    return files


def main() -> None:
    FOLDER.mkdir(exist_ok=True)
    for name, text in rendered().items():
        (FOLDER / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(rendered())} files to {FOLDER}")


if __name__ == "__main__":
    main()
