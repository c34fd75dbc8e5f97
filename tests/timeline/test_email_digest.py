"""An email subscription with a digest, from the command line, across the digest time: what the
local SMTP server (aiosmtpd on 127.0.0.1) received."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from typer.testing import CliRunner

from tests.alerts.smtpd import MailServer
from timeline.cli import app
from timeline.settings import default_sender


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, milestones_config: Path) -> Iterator[MailServer]:
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(milestones_config))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TIMELINE_MAIL_FROM", "alerts@timeline.example.org")
    monkeypatch.setenv("TIMELINE_PUBLIC_URL", "https://timeline.example.org")
    with MailServer() as server:
        monkeypatch.setenv("TIMELINE_SMTP_URL", server.url)
        yield server


def _run(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_digest_arrives_once_after_nine_paris_time(smtp: MailServer) -> None:
    with freeze_time("2027-12-31T20:00:00Z"):
        _run(["once"])
        digest = ["--digest", "daily 09:00 Europe/Paris"]
        _run(["subscriptions", "add", "--format", "email", "--to", "ops@example.org", *digest])
    with freeze_time("2028-01-01T00:00:05Z"):
        _run(["once"])  # the due notice is created and collected for the digest
    with freeze_time("2028-01-01T07:59:00Z"):
        _run(["once"])
    assert smtp.received == []
    with freeze_time("2028-01-01T08:00:30Z"):  # 09:00:30 in Paris
        _run(["once"])
    with freeze_time("2028-01-01T08:05:00Z"):
        _run(["once"])
    (mail,) = smtp.received
    assert mail.recipients == ["ops@example.org"]
    assert mail.sender == "alerts@timeline.example.org"
    # The due date of the article's construction span, and the window of another milestone opening.
    assert mail.message["Subject"] == "2 notices in your digest"
    text = mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Between 1 Jan 2028, 01:00 CET and 1 Jan 2028, 09:00 CET.\n" in text
    assert len([line for line in text.splitlines() if line.startswith("- ")]) == 2
    assert mail.message["List-Unsubscribe"].strip().startswith("<https://timeline.example.org/api/subscriptions/sub_")


def test_without_a_from_address_the_public_host_names_the_sender() -> None:
    assert default_sender("https://timeline.example.org/prefix") == "timeline-alerts@timeline.example.org"
    assert default_sender("http://127.0.0.1:8000") == "timeline-alerts@localhost"
