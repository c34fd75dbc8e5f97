"""`timeline check` in one pass (#21 item 2): every problem of every file at once, ids checked
against API milestones and between files, bad settings as one line each, secrets from `.env`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from alerts.errors import UnsafeTargetError
from alerts.guard import check_url
from timeline.cli import app
from timeline.config.feeds import load_feeds
from timeline.config.milestones import Defaults
from timeline.config.regexes import backtracking_problem
from timeline.db import make_engine, upgrade
from timeline.editing import create_milestone
from timeline.errors import ConfigError
from timeline.settings import alerts_config, load_settings
from timeline.store import MILESTONES

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MESSY = """\
defaults:
  remind: [90d, soon]
milestones:
  - id: Bad Id
    title: First
    when: 2026
  - id: b
    status: finished
    when: 2027-02-30
    timezone: Europe/Atlantis
  - id: c
    title: Third
    starts: 2027
    ends: 2025
  - id: c
    title: [not, text]
    when: 2026-Q5
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(config))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'check.db'}")
    monkeypatch.chdir(tmp_path)
    return config


def _check() -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["check"])
    return result.exit_code, result.output.splitlines()


def test_every_problem_of_every_file_in_one_run(folder: Path) -> None:
    (folder / "milestones.yaml").write_text(MESSY)
    (folder / "feeds.yaml").write_text(
        "feeds:\n  - id: f\n    url: ftp://x.example/feed\n    interval: 10s\n    milestones: [b, nowhere]\n"
        "    match: {regex: '(a+)+$'}\n"
    )
    (folder / "subscriptions.yaml").write_text(
        "subscriptions:\n  - id: s\n    url: https://x.example/h\n    format: teams\n"
    )
    code, lines = _check()
    m, f, s = (str(folder / name) for name in ("milestones.yaml", "feeds.yaml", "subscriptions.yaml"))
    assert code == 1
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{m}:2", "defaults.remind[1]"],
        [f"{m}:4", "milestones[0].id"],
        [f"{m}:7", "milestones[1].title"],  # missing
        [f"{m}:8", "milestones[1].status"],
        [f"{m}:9", "milestones[1].when"],  # 2027-02-30, checked although the zone is bad
        [f"{m}:10", "milestones[1].timezone"],
        [f"{m}:14", "milestones[2].ends"],
        [f"{m}:15", "milestones[3].id"],  # duplicate
        [f"{m}:16", "milestones[3].title"],
        [f"{m}:17", "milestones[3].when"],
        [f"{f}:3", "feeds[0].url"],
        [f"{f}:4", "feeds[0].interval"],
        [f"{f}:5", "feeds[0].milestones[1]"],
        [f"{f}:6", "feeds[0].match.regex"],
        [f"{s}:4", "subscriptions[0].format"],
    ]
    assert "'2027-02-30' is not a date" in lines[4] and "duplicate id 'c'" in lines[7]
    assert "links milestone 'nowhere', which is neither in milestones.yaml nor created through the API" in lines[12]


def test_a_clean_folder_is_ok_with_counts_in_words(folder: Path) -> None:
    (folder / "milestones.yaml").write_text("milestones:\n  - id: a\n    title: A\n    when: 2026\n")
    (folder / "feeds.yaml").write_text("feeds:\n  - id: f\n    url: https://x.example/feed\n    milestones: [a]\n")
    code, lines = _check()
    assert code == 0
    assert lines == [
        f"{folder / 'milestones.yaml'}: 1 milestone, OK",
        f"{folder / 'feeds.yaml'}: 1 feed, OK",
        f"{folder / 'subscriptions.yaml'}: not there (optional), so no subscriptions",
    ]


@pytest.fixture
def api_milestone(folder: Path, tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'check.db'}")
    upgrade(engine)
    create_milestone(
        engine,
        {"id": "shared", "title": "Made through the API", "when": "2026-Q4"},
        NOW,
        defaults=Defaults(),
        config_file=folder / "milestones.yaml",
    )
    (folder / "milestones.yaml").write_text(
        "milestones:\n  - id: mine\n    title: Mine\n    when: 2026\n  - id: shared\n    title: From the file\n"
        "    when: 2027\n"
    )
    (folder / "feeds.yaml").write_text("feeds:\n  - id: f\n    url: https://x.example/f\n    milestones: [shared]\n")
    return engine


CLASH = (
    "milestones.yaml:5: milestones[1].id: 'shared' is already the id of a milestone created through the API; give "
    "this one another id, or delete the API one (DELETE /api/milestones/shared) to let the file own it"
)


def test_an_id_clashing_with_an_api_milestone_fails_check_sync_and_dry_run(
    api_milestone: Engine, folder: Path, tmp_path: Path
) -> None:
    before = (tmp_path / "check.db").read_bytes()
    code, lines = _check()
    assert code == 1 and lines == [f"{folder}/{CLASH}"]
    assert (tmp_path / "check.db").read_bytes() == before  # check opened it read-only
    for args in (["sync", "--dry-run"], ["sync"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, result.output
        assert f"{folder}/{CLASH}" in result.output
    with api_milestone.connect() as conn:
        rows = conn.execute(select(MILESTONES.c.id, MILESTONES.c.title, MILESTONES.c.origin)).all()
    assert rows == [("shared", "Made through the API", "api")]


def test_a_feed_may_link_an_api_milestone(api_milestone: Engine, folder: Path) -> None:
    (folder / "milestones.yaml").write_text("milestones:\n  - id: mine\n    title: Mine\n    when: 2026\n")
    code, lines = _check()
    assert code == 0, lines
    assert CliRunner().invoke(app, ["sync"]).exit_code == 0
    with api_milestone.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MILESTONES)).scalar_one() == 2


def test_a_clash_keeps_the_service_on_its_last_good_state(api_milestone: Engine, folder: Path) -> None:
    from timeline.service import Service

    service = Service(load_settings(), engine=api_milestone)
    service.reload_config(NOW, force=True)
    status = service.config_status()
    assert not status.ok and [str(p) for p in status.problems] == [f"{folder}/{CLASH}"]
    assert status.summary == "not applied: 1 problem in milestones.yaml (line 5); no config has been applied yet"


def test_check_without_a_database_creates_none(folder: Path, tmp_path: Path) -> None:
    (folder / "milestones.yaml").write_text("milestones: []\n")
    assert _check()[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config"]
    assert sorted(p.name for p in folder.iterdir()) == ["milestones.yaml"]


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        (
            "TIMELINE_WEBHOOK_ALLOW_CIDRS",
            "10.0.0.0/8,bogus",
            "bad settings: TIMELINE_WEBHOOK_ALLOW_CIDRS: 'bogus' is not an address range; write CIDRs like "
            "10.0.0.0/8 or fd00::/8 (or single addresses), separated by commas (got '10.0.0.0/8,bogus')",
        ),
        ("TIMELINE_FEED_ALLOW_CIDRS", "300.1.1.1/8", "bad settings: TIMELINE_FEED_ALLOW_CIDRS: '300.1.1.1/8' is not"),
        ("TIMELINE_CONFIG_SETTLE", "soon", "bad settings: TIMELINE_CONFIG_SETTLE: 'soon' is not a duration"),
        ("TIMELINE_PORT", "http", "bad settings: TIMELINE_PORT: Input should be a valid integer"),
    ],
)
def test_each_bad_setting_is_one_line_and_exit_2(
    folder: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, line: str
) -> None:
    (folder / "milestones.yaml").write_text("milestones: []\n")
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1 and result.output.startswith(line), result.output


def test_guard_refusals_name_the_settings_of_their_kind() -> None:
    settings = load_settings()
    with pytest.raises(UnsafeTargetError) as feed:
        check_url("http://10.1.2.3/feed.xml", settings.feed_policy())
    with pytest.raises(UnsafeTargetError) as hook:
        check_url("http://10.1.2.3/hook", alerts_config(settings).policy)
    assert "set TIMELINE_FEED_ALLOW_PRIVATE=true or add the address range to TIMELINE_FEED_ALLOW_CIDRS" in str(
        feed.value
    )
    assert "WEBHOOK" not in str(feed.value)
    assert "set TIMELINE_WEBHOOK_ALLOW_PRIVATE=true or add the address range to TIMELINE_WEBHOOK_ALLOW_CIDRS" in str(
        hook.value
    )
    opened = load_settings(feed_allow_cidrs="10.1.0.0/16")
    assert check_url("http://10.1.2.3/feed.xml", opened.feed_policy()).hostname == "10.1.2.3"


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_secrets_are_found_in_dotenv_and_the_environment_wins(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timeline.config.bundle import load_config

    (folder / "milestones.yaml").write_text("milestones: []\n")
    (folder / "subscriptions.yaml").write_text(
        "subscriptions:\n  - id: ops\n    url: https://ops.example.com/hook\n    secret_env: OPS_SECRET\n"
    )
    monkeypatch.delenv("OPS_SECRET", raising=False)
    with pytest.raises(ConfigError) as missing:
        load_config(load_settings(), alerts_config(load_settings()))
    assert "environment variable OPS_SECRET is not set; export the whsec_ secret or add it to the .env file" in str(
        missing.value
    )
    Path(".env").write_text(f"# secrets\nOPS_SECRET={SECRET}\n")
    (spec,) = load_config(load_settings(), alerts_config(load_settings())).subscriptions or []
    assert spec.secret == SECRET
    other = "whsec_" + "A" * 32
    monkeypatch.setenv("OPS_SECRET", other)
    (spec,) = load_config(load_settings(), alerts_config(load_settings())).subscriptions or []
    assert spec.secret == other


REFUSED = [
    r"(a+)+$",
    r"(a*)*b",
    r"(\w+\s?)*$",
    r"(a|aa)+$",
    r"(a|a)+$",
    r"(a|b|ab)*c",
    r"(x+x+)+y",
    r"(.*a){20}",
    r"(\d+\.)+\d+",
    r"(?:x|x?y?)+z",
]
ACCEPTED = [
    r"anthropic",
    r"data ?cent(er|re)s?",
    r"(foo|bar)+",
    r"\b(GW|gigawatt)s?\b",
    r"(\d++\.)+\d+",
    r"(?>a+)+",
    r"[a-z]+\d*",
    r"(ab)+",
    r"(a{3})+",
    r"\$\d+(\.\d+)? ?(billion|bn)",
    r"(ab|a)+$",
    r"(\w|\d)+$",
    r"^$",
]


@pytest.mark.parametrize("pattern", REFUSED)
def test_regexes_that_backtrack_exponentially_are_refused_with_their_line(tmp_path: Path, pattern: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - id: f\n    url: https://x.example/f\n    match:\n      regex: '{pattern}'\n")
    with pytest.raises(ConfigError) as caught:
        load_feeds(path)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (5, "feeds[0].match.regex")
    assert "can take exponential time on some texts" in problem.message and "possessive" in problem.message


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_regexes_that_cannot_blow_up_are_accepted(pattern: str) -> None:
    assert backtracking_problem(pattern) is None


@given(st.text(max_size=60))
def test_the_backtracking_check_never_raises(pattern: str) -> None:
    result = backtracking_problem(pattern)
    assert result is None or isinstance(result, str)


def test_a_database_that_cannot_be_read_is_a_note_not_a_failure(folder: Path, tmp_path: Path) -> None:
    (folder / "milestones.yaml").write_text("milestones: []\n")
    (tmp_path / "check.db").write_bytes(b"this is not a database" * 100)
    result = CliRunner().invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "note: the database could not be read (" in result.output
    assert "ids were not compared with API milestones" in result.output
