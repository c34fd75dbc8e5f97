"""`timeline feeds`, `feeds import|export` and `timeline poll`, run as a user would (real server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from freezegun import freeze_time
from typer.testing import CliRunner

from tests.feeds.builders import Item, rss, write
from tests.feeds.server import LocalServer, static
from timeline.cli import feeds as feeds_cli
from timeline.config.feeds import load_feeds
from timeline.feeds.opml import read_opml

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My reader</title></head><body>
  <outline text="Data centres">
    <outline type="rss" text="DCD" xmlUrl="https://www.datacenterdynamics.com/en/rss/"/>
    <outline type="rss" text="Ars Technica" xmlUrl="https://feeds.arstechnica.com/arstechnica/index"/>
  </outline>
  <outline type="rss" text="Ars again" xmlUrl="https://feeds.arstechnica.com/arstechnica/index"/>
  <outline type="rss" text="Microsoft" xmlUrl="https://blogs.microsoft.com/feed/"/>
</body></opml>
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("TIMELINE_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("TIMELINE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("TIMELINE_FEED_ALLOW_PRIVATE", "true")
    monkeypatch.chdir(tmp_path)
    app = typer.Typer()
    app.add_typer(feeds_cli.app, name="feeds")
    app.command("poll")(feeds_cli.poll)
    return app


def _feeds_yaml(tmp_path: Path, server: LocalServer) -> None:
    ok = server.route("/ok.xml", static(rss(Item("Anthropic builds", guid="1"))))
    broken = server.route("/broken.xml", static(b"", 500))
    write(
        tmp_path / "feeds.yaml",
        f"feeds:\n  - id: good\n    url: {ok}\n    match: {{any: [anthropic]}}\n  - id: bad\n    url: {broken}\n",
    )


def test_poll_then_health(cli: typer.Typer, tmp_path: Path, server: LocalServer) -> None:
    _feeds_yaml(tmp_path, server)
    runner = CliRunner()
    with freeze_time("2026-03-01T12:00:00Z", real_asyncio=True):
        polled = runner.invoke(cli, ["poll", "--json"])
        assert polled.exit_code == 0, polled.output
        report = {f["feed_id"]: f for f in json.loads(polled.stdout)["feeds"]}
        assert report["good"]["status"] == "ok" and report["good"]["new"] == 1
        assert report["bad"]["error"] == "HTTP 500"
        table = runner.invoke(cli, ["poll", "--feed", "good"])
        assert table.exit_code == 0 and "Polled 1 feed in" in table.output
        health = runner.invoke(cli, ["feeds", "--json"])
    rows = {h["id"]: h for h in json.loads(health.stdout)}
    assert rows["good"]["status"] == "not_modified" and rows["good"]["entries"] == 1
    assert rows["bad"]["status"] == "error" and rows["bad"]["consecutive_failures"] == 1
    assert rows["bad"]["last_error"] == "HTTP 500"
    listing = runner.invoke(cli, ["feeds"])
    assert listing.exit_code == 0 and "HTTP 500" in listing.output and "good" in listing.output
    unknown = runner.invoke(cli, ["poll", "--feed", "nope"])
    assert unknown.exit_code == 1 and "no feed 'nope'" in unknown.output


def test_broken_feeds_yaml_is_reported_with_its_line(cli: typer.Typer, tmp_path: Path) -> None:
    write(tmp_path / "feeds.yaml", "feeds:\n  - id: a\n    url: gopher://x\n")
    result = CliRunner().invoke(cli, ["feeds"])
    assert result.exit_code == 1
    assert "feeds.yaml:3: feeds[0].url: 'gopher://x' is not an http(s) URL" in result.output


def test_import_appends_and_export_round_trips(cli: typer.Typer, tmp_path: Path) -> None:
    write(tmp_path / "feeds.yaml", "# my feeds\nfeeds:\n  - id: msft\n    url: https://blogs.microsoft.com/feed/\n")
    opml = write(tmp_path / "reader.opml", OPML)
    runner = CliRunner()
    printed = runner.invoke(cli, ["feeds", "import", str(opml), "--print"])
    assert printed.exit_code == 0 and "id: dcd" in printed.output and "microsoft" not in printed.output
    assert "dcd" not in (tmp_path / "feeds.yaml").read_text()
    imported = runner.invoke(cli, ["feeds", "import", str(opml)])
    assert imported.exit_code == 0, imported.output
    assert "2 feeds added" in imported.output
    text = (tmp_path / "feeds.yaml").read_text()
    assert text.startswith("# my feeds\nfeeds:\n  - id: msft\n")
    specs = load_feeds(tmp_path / "feeds.yaml")
    assert [(s.id, s.tags) for s in specs] == [
        ("msft", ()),
        ("dcd", ("Data centres",)),
        ("ars-technica", ("Data centres",)),
    ]
    again = runner.invoke(cli, ["feeds", "import", str(opml)])
    assert "0 feeds added" in again.output
    exported = runner.invoke(cli, ["feeds", "export"])
    assert exported.exit_code == 0
    back = read_opml(exported.output.encode(), Path("out.opml")).feeds
    assert {f.url: (f.title, f.tags) for f in back} == {s.url: (s.name, s.tags) for s in specs}
    assert 'outline text="Data centres"' in exported.output


def test_import_refuses_what_is_not_opml(cli: typer.Typer, tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.opml", "<html><body>no</body></html>")
    result = CliRunner().invoke(cli, ["feeds", "import", str(bad)])
    assert result.exit_code == 1 and "not an OPML document" in result.output
    broken = write(tmp_path / "broken.opml", "<opml><body>")
    result = CliRunner().invoke(cli, ["feeds", "import", str(broken)])
    assert result.exit_code == 1 and "not valid XML" in result.output


def test_import_tells_what_it_skipped_and_repaired(cli: typer.Typer, tmp_path: Path) -> None:
    """A pasted file with an HTML entity and a subscription-list outline: the feeds are imported,
    the repair is a warning and the skipped outline a note, each naming its line."""
    write(tmp_path / "feeds.yaml", "feeds: []\n")
    opml = write(
        tmp_path / "pasted.opml",
        '<?xml version="1.0"?>\n<opml version="2.0"><body>\n'
        '<outline text="News&nbsp;room" xmlUrl="https://news.example.org/rss" category="/press/energy"/>\n'
        '<outline text="Team list" type="source" xmlUrl="https://example.org/list.opml"/>\n'
        "</body></opml>\n",
    )
    result = CliRunner().invoke(cli, ["feeds", "import", str(opml)])
    assert result.exit_code == 0, result.output
    assert f"warning: {opml}:3: '&nbsp;' is not an XML entity" in result.stderr
    assert f"note: {opml}:4: skipped 'Team list': type=\"source\" is a subscription list, not a feed" in result.stderr
    assert "1 feed added" in result.stdout
    (spec,) = load_feeds(tmp_path / "feeds.yaml")
    assert (spec.url, spec.name, spec.tags) == ("https://news.example.org/rss", "News\xa0room", ("press/energy",))
