"""`timeline feeds` (health, OPML import and export) and `timeline poll`. Typer stays in this module;
the work is in `timeline.feeds`. Settings and engines are built inside each command."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from alerts.sqltypes import utcnow
from timeline.config.feeds import load_feeds
from timeline.db import make_engine, upgrade
from timeline.errors import ConfigError, SettingsError
from timeline.feeds.health import feed_health
from timeline.feeds.opml import append_to_file, export_opml, new_feeds, read_opml, render_yaml
from timeline.feeds.poll import FeedPoll, poll_due
from timeline.feeds.store import apply_feeds_file
from timeline.settings import Settings, load_settings

app = typer.Typer(help="Watched feeds: health, OPML import and export.", add_completion=False)
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _config_failed(exc: ConfigError) -> typer.Exit:
    for problem in exc.problems:
        typer.echo(str(problem), err=True)
    return typer.Exit(1)


def _engine(settings: Settings, now: datetime) -> Engine:
    """The database, migrated, with the feeds of feeds.yaml applied."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        apply_feeds_file(engine, settings.feeds_file, now)
    except ConfigError as exc:
        engine.dispose()
        raise _config_failed(exc) from None
    return engine


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


@app.callback(invoke_without_command=True)
def health(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Each feed's health: status, consecutive failures, last success, next poll, last error."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    engine = _engine(settings, utcnow())
    try:
        with engine.connect() as conn:
            found = feed_health(conn)
    finally:
        engine.dispose()
    if json_output:
        _print_json([h.as_dict() for h in found])
        return
    if not found:
        console.print(f"No feeds. Add some to {settings.feeds_file}.")
        return
    table = Table(title="Feeds (times in UTC)")
    table.add_column("id", no_wrap=True)
    for column in ("status", "failures", "last success", "next poll", "entries", "last error"):
        table.add_column(column)
    colours = {"ok": "green", "not_modified": "green", "error": "red", "new": "yellow"}
    for h in found:
        status = f"[{colours.get(h.status, 'white')}]{h.status}[/]"
        table.add_row(
            h.id,
            status,
            str(h.consecutive_failures),
            _when(h.last_success_at),
            _when(h.next_poll_at),
            str(h.entries),
            (h.last_error or "")[:80],
        )
    console.print(table)


@app.command("export")
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")] = None,
) -> None:
    """The feeds of feeds.yaml as OPML 2.0, for any feed reader."""
    settings = _settings()
    try:
        specs = load_feeds(settings.feeds_file)
    except ConfigError as exc:
        raise _config_failed(exc) from None
    document = export_opml(specs, utcnow())
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")
        console.print(f"{len(specs)} feeds written to {output}")


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="An OPML file exported by a feed reader.", exists=True, dir_okay=False)],
    print_only: Annotated[bool, typer.Option("--print", help="Print the YAML instead of changing feeds.yaml.")] = False,
) -> None:
    """Add the feeds of an OPML file to feeds.yaml (those whose URL is not there yet).

    The entries are appended to feeds.yaml, its comments kept, without match rules (every new item
    matches until you add one); with --print they are printed as YAML to paste instead.
    """
    settings = _settings()
    try:
        feeds = read_opml(file.read_bytes(), file)
        existing = load_feeds(settings.feeds_file)
        if print_only:
            sys.stdout.write(render_yaml(new_feeds(feeds, existing), existing))
            return
        added = append_to_file(settings.feeds_file, feeds)
    except ConfigError as exc:
        raise _config_failed(exc) from None
    console.print(f"{len(added)} feeds added to {settings.feeds_file} ({len(feeds) - len(added)} already there)")
    for feed_id in added:
        console.print(f"  {feed_id}")


def poll(
    feed: Annotated[str | None, typer.Option("--feed", help="Only this feed (its id).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Poll every active feed now (or one with --feed), whatever its schedule, with a progress bar."""
    settings = _settings()
    now = utcnow()
    engine = _engine(settings, now)
    try:
        with engine.connect() as conn:
            ids = [h.id for h in feed_health(conn)]
        if feed is not None and feed not in ids:
            typer.echo(f"no feed {feed!r}; `timeline feeds` lists them", err=True)
            raise typer.Exit(1)
        wanted = [feed] if feed else ids
        if json_output:
            report = poll_due(engine, settings, now, feed_ids=wanted, force=True)
            _print_json(report.as_dict())
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("Polling feeds", total=len(wanted))

            def advance(done: FeedPoll) -> None:
                progress.update(task, advance=1, description=f"Polled {done.feed_id}")

            report = poll_due(engine, settings, now, feed_ids=wanted, force=True, progress=advance)
    finally:
        engine.dispose()
    table = Table(title=f"Polled {len(report.feeds)} feeds in {report.seconds:.1f}s")
    for column in ("id", "status", "new", "matched", "notices", "error"):
        table.add_column(column)
    for p in report.feeds:
        table.add_row(p.feed_id, p.status, str(p.new), str(p.matched), str(len(p.notices)), (p.error or "")[:80])
    console.print(table)
