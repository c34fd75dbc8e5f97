"""feeds.yaml: the shipped file, and broken files that say where (and change nothing)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.feeds.builders import write
from tests.feeds.conftest import NOW
from timeline.config.feeds import load_feeds, unknown_milestones
from timeline.config.milestones import load_milestones
from timeline.errors import ConfigError
from timeline.feeds.match import Rule
from timeline.feeds.store import FEEDS, apply_feeds_file

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MILESTONES = {
    "anthropic-announcement",
    "anthropic-us-construction",
    "anthropic-construction-start",
    "microsoft-sweden",
    "google-iowa",
}

GOOD = """\
defaults: {interval: 10m, timeout: 5s, max_bytes: 2000}
feeds:
  - id: one
    url: https://example.org/feed.xml
    match: {any: Anthropic, all: ["data cent*"]}
    milestones: [m1, m1, m2]
  - id: two
    url: http://example.org/atom
    name: Two
    interval: 1h
    tags: [anthropic]
    notify_backlog: true
"""

BROKEN = {
    "yaml syntax": ("feeds:\n  - id: a\n    url: [unclosed\n", "feeds.yaml:4: YAML syntax"),
    "unknown field": (
        "feeds:\n  - id: a\n    url: https://x.org/f\n    intervall: 5m\n",
        "feeds.yaml:4: feeds[0].intervall: unknown field 'intervall'; allowed fields: id, url, name",
    ),
    "unknown match field": (
        "feeds:\n  - id: a\n    url: https://x.org/f\n    match:\n      anyy: [x]\n",
        "feeds.yaml:5: feeds[0].match.anyy: unknown field 'anyy'; allowed fields: any, all, none, regex",
    ),
    "bad duration": (
        "feeds:\n  - id: a\n    url: https://x.org/f\n    interval: soon\n",
        "feeds.yaml:4: feeds[0].interval: 'soon' is not a duration; write a whole number and a unit",
    ),
    "too frequent": (
        "defaults: {interval: 10s}\nfeeds: []\n",
        "feeds.yaml:1: defaults.interval: poll at most once a minute; use 1m or more",
    ),
    "slow default timeout": (
        "defaults: {timeout: 2m}\nfeeds: []\n",
        "feeds.yaml:1: defaults.timeout: a fetch may take at most 60s; a feed slower than that is down",
    ),
    "slow timeout": (
        "feeds:\n  - id: a\n    url: https://x.org/f\n    timeout: 61s\n",
        "feeds.yaml:4: feeds[0].timeout: a fetch may take at most 60s",
    ),
    "duplicate id": (
        "feeds:\n  - id: a\n    url: https://x.org/1\n  - id: a\n    url: https://x.org/2\n",
        "feeds.yaml:4: feeds[1].id: duplicate id 'a', first used in feeds[0]",
    ),
    "bad id": ("feeds:\n  - id: A B\n    url: https://x.org/1\n", "feeds.yaml:2: feeds[0].id: 'A B' is not a valid id"),
    "bad scheme": (
        "feeds:\n  - id: a\n    url: file:///etc/passwd\n",
        "feeds.yaml:3: feeds[0].url: 'file:///etc/passwd' is not an http(s) URL",
    ),
    "no host": ("feeds:\n  - id: a\n    url: 'http://'\n", "feeds.yaml:3: feeds[0].url: 'http://' has no host"),
    "bad regex": (
        "feeds:\n  - id: a\n    url: https://x.org/1\n    match:\n      regex: 'data (center'\n",
        "feeds.yaml:5: feeds[0].match.regex: 'data (center' is not a valid regular expression",
    ),
    "misplaced wildcard": (
        "feeds:\n  - id: a\n    url: https://x.org/1\n    match:\n      any: [ok, '*center']\n",
        "feeds.yaml:5: feeds[0].match.any[1]: '*center': the wildcard * goes at the end of a word",
    ),
    "missing url": ("feeds:\n  - id: a\n", "feeds.yaml:2: feeds[0].url: required field is missing"),
    "not a mapping": ("- a\n- b\n", "feeds.yaml:1: expected a mapping at the top of the file"),
}


def test_shipped_feeds_load_and_link_the_shipped_milestones() -> None:
    specs = load_feeds(REPO / "config" / "feeds.yaml")
    assert len(specs) >= 5
    assert {m for s in specs for m in s.milestones} == SHIPPED_MILESTONES
    assert all(s.url.startswith("https://") and s.rule is not None for s in specs)
    assert unknown_milestones(specs, SHIPPED_MILESTONES) == []


def test_shipped_feeds_link_milestones_of_the_shipped_milestones_file() -> None:
    known = {m.id for m in load_milestones(REPO / "config" / "milestones.yaml")}
    assert unknown_milestones(load_feeds(REPO / "config" / "feeds.yaml"), known) == []


def test_good_file_with_defaults(tmp_path: Path) -> None:
    one, two = load_feeds(write(tmp_path / "feeds.yaml", GOOD))
    assert (one.id, one.name, one.interval, one.timeout, one.max_bytes) == (
        "one",
        "one",
        timedelta(minutes=10),
        timedelta(seconds=5),
        2000,
    )
    assert one.rule == Rule(any=("Anthropic",), all=("data cent*",))
    assert one.milestones == ("m1", "m2")
    assert (two.name, two.interval, two.rule, two.tags, two.notify_backlog) == (
        "Two",
        timedelta(hours=1),
        None,
        ("anthropic",),
        True,
    )


def test_absent_or_empty_file_means_no_feeds(tmp_path: Path) -> None:
    assert load_feeds(tmp_path / "feeds.yaml") == []
    assert load_feeds(write(tmp_path / "feeds.yaml", "# nothing yet\n")) == []


def test_unknown_milestone_is_a_warning_only(tmp_path: Path) -> None:
    specs = load_feeds(write(tmp_path / "feeds.yaml", GOOD))
    assert unknown_milestones(specs, {"m1"}) == ["feed 'one' links unknown milestone 'm2'"]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_says_where_and_changes_nothing(case: str, tmp_path: Path, sqlite_engine: Engine) -> None:
    path = write(tmp_path / "feeds.yaml", GOOD)
    apply_feeds_file(sqlite_engine, path, NOW)
    with sqlite_engine.connect() as conn:
        before = [dict(r._mapping) for r in conn.execute(select(FEEDS).order_by(FEEDS.c.id))]
    text, expected = BROKEN[case]
    write(path, text)
    with pytest.raises(ConfigError) as caught:
        apply_feeds_file(sqlite_engine, path, NOW + timedelta(hours=1))
    assert any(str(p).replace(str(tmp_path) + "/", "").startswith(expected) for p in caught.value.problems), str(
        caught.value
    )
    with sqlite_engine.connect() as conn:
        assert [dict(r._mapping) for r in conn.execute(select(FEEDS).order_by(FEEDS.c.id))] == before


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "feeds:\n  - id: a\n    url: ftp://x.org/1\n  - id: a\n    url: https://x.org/2\n    match: {regex: '('}\n"
    with pytest.raises(ConfigError) as caught:
        load_feeds(write(tmp_path / "feeds.yaml", text))
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "feeds[0].url"),
        (4, "feeds[1].id"),
        (6, "feeds[1].match.regex"),
    ]
