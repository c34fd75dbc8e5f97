"""The golden Slack and Discord bodies of every notice type match what the code renders now.
A deliberate change: regenerate with `.venv/bin/python -m tests.alerts.golden` and read the diff."""

from __future__ import annotations

import json
import re

import pytest

from alerts.message import OWN_TYPES
from tests.alerts.golden import FOLDER, payloads, rendered
from timeline.metrics import NOTICE_TYPES
from timeline.wording import FEED_TYPES, MILESTONE_TYPES

FILES = rendered()
MACHINE = re.compile(r"\b(True|False|None|null|true|false)\b|days_until_due|opens_at|due_at|\{'|stage\b|[a-z]+_[a-z]+:")


def test_every_notice_type_has_a_wording_and_golden_bodies() -> None:
    worded = {*MILESTONE_TYPES, *FEED_TYPES, *OWN_TYPES}
    assert worded == set(payloads())
    assert worded == set(NOTICE_TYPES) - {"milestone.slip_reported"}  # worded by the proposals that send it
    assert {name.rsplit(".", 2)[0] for name in FILES} == worded


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_checked_in_body_is_what_is_rendered(name: str) -> None:
    path = FOLDER / name
    assert path.read_text(encoding="utf-8") == FILES[name], (
        f"regenerate: .venv/bin/python -m tests.alerts.golden ({name})"
    )


@pytest.mark.parametrize("name", sorted(FILES))
def test_no_machine_text_reaches_people(name: str) -> None:
    body = json.loads(FILES[name])
    words = [body.get("text", "")]
    for block in body.get("blocks", []):
        words += [block.get("text", {}).get("text", "")] + [f["text"] for f in block.get("fields", [])]
    for embed in body.get("embeds", []):
        words += [
            embed["title"],
            embed.get("description", ""),
            *[f["name"] + f["value"] for f in embed.get("fields", [])],
        ]
    for text in words:
        assert not MACHINE.search(text), text
        assert not re.search(r"\d{4}-\d{2}-\d{2}T", text), text  # no raw ISO instants
