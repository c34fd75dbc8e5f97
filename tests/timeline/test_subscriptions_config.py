"""subscriptions.yaml: secrets from the environment, the SSRF guard at load time, file:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from alerts.config import AlertsConfig
from timeline.cli import app
from timeline.config.subscriptions import load_subscriptions
from timeline.errors import ConfigError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "subscriptions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_absent_file_means_none(tmp_path: Path) -> None:
    assert load_subscriptions(tmp_path / "subscriptions.yaml", AlertsConfig()) == []


def test_a_good_file(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "subscriptions:\n  - id: ops\n    url: https://ops.example.com/hook\n    events: ['milestone.*']\n"
        "    milestones: [a]\n    secret_env: OPS_SECRET\n  - id: chat\n    url: https://chat.example.com/x\n"
        "    format: slack\n",
    )
    specs = load_subscriptions(path, AlertsConfig(), {"OPS_SECRET": SECRET})
    assert [(s.id, s.format, s.subjects, s.secret) for s in specs] == [
        ("ops", "standard", ("a",), SECRET),
        ("chat", "slack", (), None),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "subscriptions:\n  - id: ops\n    url: https://ops.example.com/hook\n    secret_env: MISSING\n",
            "subscriptions.yaml:4: subscriptions[0].secret_env: environment variable MISSING is not set",
        ),
        (
            "subscriptions:\n  - id: local\n    url: http://127.0.0.1:9/hook\n    format: slack\n",
            "subscriptions.yaml:3: subscriptions[0].url: http://127.0.0.1:9/hook: 127.0.0.1 is a loopback address",
        ),
        (
            "subscriptions:\n  - id: ops\n    url: https://ops.example.com/hook\n    format: teams\n",
            "subscriptions.yaml:4: subscriptions[0].format: Input should be 'standard', 'slack', 'discord', 'email' "
            "or 'apprise'",
        ),
        (
            "subscriptions:\n  - id: ops\n    url: ftp://ops.example.com/hook\n    format: slack\n",
            "subscriptions.yaml:3: subscriptions[0].url: ftp://ops.example.com/hook: only http and https",
        ),
        (
            "subscriptions:\n  - id: ops\n    url: https://ops.example.com/hook\n",
            "subscriptions.yaml:2: subscriptions[0].secret_env: ",
        ),
        (
            "subscriptions:\n  - id: local\n    url: http://localhost:9/hook\n    format: slack\n",
            "subscriptions.yaml:3: subscriptions[0].url: http://localhost:9/hook: localhost names a loopback address",
        ),
        (
            "subscriptions:\n  - id: local\n    url: http://api.LOCALHOST./hook\n    format: slack\n",
            "subscriptions.yaml:3: subscriptions[0].url: http://api.LOCALHOST./hook: api.localhost. names a loopback",
        ),
        (
            "subscriptions:\n  - id: many\n    url: https://ops.example.com/hook\n    format: slack\n"
            f"    events: [{', '.join(f'e{i}.*' for i in range(101))}]\n",
            "subscriptions.yaml:5: subscriptions[0].events: events holds at most 100 entries (it has 101)",
        ),
    ],
)
def test_problems_name_the_line_and_field(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_subscriptions(_file(tmp_path, text), AlertsConfig(), {})
    assert expected in str(caught.value)


def test_check_reports_problems_of_every_file_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "milestones.yaml").write_text("milestones:\n  - id: a\n    title: A\n    when: 2025-13\n")
    (folder / "subscriptions.yaml").write_text(
        "subscriptions:\n  - id: x\n    url: http://10.0.0.1/\n    format: slack\n"
    )
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(folder))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1
    assert "milestones.yaml:4: milestones[0].when" in result.output
    assert (
        "subscriptions.yaml:3: subscriptions[0].url: http://10.0.0.1/: 10.0.0.1 is a private address" in result.output
    )


def test_check_refuses_a_feed_linking_an_unknown_milestone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "milestones.yaml").write_text("milestones:\n  - id: a\n    title: A\n    when: 2026\n")
    (folder / "feeds.yaml").write_text("feeds:\n  - id: f\n    url: https://example.org/feed\n    milestones: [a, b]\n")
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(folder))
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (
        f"{folder / 'feeds.yaml'}:4: feeds[0].milestones[1]: feed 'f' links milestone 'b', which is neither in "
        "milestones.yaml nor created through the API; fix the id or remove it"
    )


def test_email_apprise_and_quiet_hours(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "subscriptions:\n  - id: mail\n    format: email\n    to: [ops@example.org, cto@example.org]\n"
        "    quiet: 22:00-07:00 Europe/Paris\n  - id: phone\n    format: apprise\n"
        "    url: ntfys://ntfy.example.org/timeline\n",
    )
    specs = load_subscriptions(path, AlertsConfig(), {})
    assert [(s.id, s.format, s.to, s.url, s.quiet) for s in specs] == [
        ("mail", "email", ("ops@example.org", "cto@example.org"), "", "22:00-07:00 Europe/Paris"),
        ("phone", "apprise", (), "ntfys://ntfy.example.org/timeline", None),
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("    format: email\n", "subscriptions.yaml:2: subscriptions[0].to: format email needs `to`"),
        (
            "    format: email\n    to: [ops.example.org]\n",
            "subscriptions.yaml:4: subscriptions[0].to: 'ops.example.org' is not an email address: it needs an @",
        ),
        (
            "    format: apprise\n    url: foo://bar/baz\n",
            "subscriptions.yaml:4: subscriptions[0].url: foo:// is not a service Apprise knows",
        ),
        (
            "    url: https://hooks.slack.com/x\n    format: slack\n    quiet: 22:00-07:00 Mars/Olympus\n",
            "subscriptions.yaml:5: subscriptions[0].quiet: '22:00-07:00 Mars/Olympus': 'Mars/Olympus' is not a time "
            "zone",
        ),
        (
            "    url: https://hooks.slack.com/x\n    format: slack\n    quiet: 25:00-07:00\n",
            "subscriptions.yaml:5: subscriptions[0].quiet: '25:00-07:00': a time of day runs from 00:00 to 23:59",
        ),
        (
            "    url: https://hooks.slack.com/x\n    format: slack\n    to: [ops@example.org]\n",
            "subscriptions.yaml:5: subscriptions[0].to: to is for format email only",
        ),
    ],
)
def test_channel_fields_are_refused_at_their_line(tmp_path: Path, entry: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_subscriptions(_file(tmp_path, "subscriptions:\n  - id: x\n" + entry), AlertsConfig(), {})
    assert expected in str(caught.value)
