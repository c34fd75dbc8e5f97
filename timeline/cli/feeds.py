"""`timeline feeds` (health, OPML import and export) and `timeline poll`. Typer stays in this module;
the work is in `timeline.feeds`, imported when a command runs. Settings and engines are built inside
each command."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from timeline.cli.output import Cell, Column, console, print_json, print_listing, split_csv
from timeline.errors import ConfigError, SettingsError
from timeline.humanize import day, plural

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from timeline.feeds.poll import FeedPoll
    from timeline.settings import Settings

app = typer.Typer(rich_markup_mode="markdown", help="Watched feeds: health, OPML import and export.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _settings() -> Settings:
    from timeline.settings import load_settings

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
    from timeline.db import make_engine, upgrade
    from timeline.feeds.store import apply_feeds_file

    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        apply_feeds_file(engine, settings.feeds_file, now)
    except ConfigError as exc:
        engine.dispose()
        raise _config_failed(exc) from None
    return engine


def _when(moment: datetime | None) -> str:
    return f"{day(moment)} {moment:%H:%M}" if moment else "-"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@app.callback(invoke_without_command=True)
def health(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Each feed's health: status, consecutive failures, last success, next poll, last error."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.text import Text

    from timeline.feeds.health import feed_health

    settings = _settings()
    engine = _engine(settings, _utcnow())
    try:
        with engine.connect() as conn:
            found = feed_health(conn)
    finally:
        engine.dispose()
    if json_output:
        print_json([h.as_dict() for h in found])
        return
    if not found:
        console.print(f"No feeds. Add some to {settings.feeds_file}.", markup=False)
        return
    columns = [Column("id", id=True), Column("status"), Column("failures"), Column("last success")]
    columns += [Column("next poll"), Column("entries"), Column("last error")]
    colours = {"ok": "green", "not_modified": "green", "error": "red", "new": "yellow"}
    cells: list[list[Cell]] = [
        [
            h.id,
            Text(h.status, style=colours.get(h.status, "")),
            str(h.consecutive_failures),
            _when(h.last_success_at),
            _when(h.next_poll_at),
            str(h.entries),
            h.last_error or "",
        ]
        for h in found
    ]
    print_listing(f"{plural(len(found), 'feed')} (times in UTC)", columns, cells)


@app.command("export")
def export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")] = None,
) -> None:
    """The feeds of feeds.yaml as OPML 2.0, for any feed reader (their tags become folders)."""
    from timeline.config.feeds import load_feeds
    from timeline.feeds.opml import export_opml

    settings = _settings()
    try:
        specs = load_feeds(settings.feeds_file)
    except ConfigError as exc:
        raise _config_failed(exc) from None
    document = export_opml(specs, _utcnow())
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")
        console.print(f"{plural(len(specs), 'feed')} written to {output}", markup=False)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="An OPML file exported by a feed reader.", exists=True, dir_okay=False)],
    print_only: Annotated[bool, typer.Option("--print", help="Print the YAML instead of changing feeds.yaml.")] = False,
) -> None:
    """Add the feeds of an OPML file to feeds.yaml (those whose URL is not there yet).

    The entries are appended to feeds.yaml, its comments kept, without match rules (every new item
    matches until you add one); their folders and categories become tags. With --print they are
    printed as YAML to paste instead. Outlines that are not feeds are skipped with a note, and a
    malformed file is read as far as its feeds can be, with a warning naming each repaired line.
    """
    from timeline.config.feeds import load_feeds
    from timeline.feeds.opml import append_to_file, new_feeds, read_opml, render_yaml

    settings = _settings()
    try:
        document = read_opml(file.read_bytes(), file)
        for line in document.warnings:
            typer.echo(f"warning: {line}", err=True)
        for line in document.notes:
            typer.echo(f"note: {line}", err=True)
        existing = load_feeds(settings.feeds_file)
        if print_only:
            sys.stdout.write(render_yaml(new_feeds(document.feeds, existing), existing))
            return
        added = append_to_file(settings.feeds_file, document.feeds)
    except ConfigError as exc:
        raise _config_failed(exc) from None
    there = len(document.feeds) - len(added)
    console.print(f"{plural(len(added), 'feed')} added to {settings.feeds_file} ({there} already there)", markup=False)
    for feed_id in added:
        console.print(f"  {feed_id}", markup=False)


def poll(
    feed: Annotated[
        list[str] | None, typer.Option("--feed", help="Only these feeds (ids); repeat or comma-separate.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Poll every active feed now (or those given with --feed), whatever their schedule, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from timeline.feeds.health import feed_health
    from timeline.feeds.poll import poll_due

    settings = _settings()
    now = _utcnow()
    asked = split_csv(feed or [])
    engine = _engine(settings, now)
    try:
        with engine.connect() as conn:
            ids = [h.id for h in feed_health(conn)]
        unknown = [f for f in asked if f not in ids]
        if unknown:
            names = ", ".join(repr(f) for f in unknown)
            typer.echo(f"no feed {names} in {settings.feeds_file}; `timeline feeds` lists them", err=True)
            raise typer.Exit(1)
        wanted = asked or ids
        if json_output:
            report = poll_due(engine, settings, now, feed_ids=wanted, force=True)
            print_json(report.as_dict())
            return
        bar = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*bar, console=console, transient=True) as progress:
            task = progress.add_task("Polling feeds", total=len(wanted))

            def advance(done: FeedPoll) -> None:
                progress.update(task, advance=1, description=f"Polled {done.feed_id}")

            report = poll_due(engine, settings, now, feed_ids=wanted, force=True, progress=advance)
    finally:
        engine.dispose()
    columns = [Column("id", id=True), Column("status"), Column("new"), Column("matched"), Column("notices")]
    columns.append(Column("error"))
    cells: list[list[Cell]] = [
        [p.feed_id, p.status, str(p.new), str(p.matched), str(len(p.notices)), p.error or ""] for p in report.feeds
    ]
    print_listing(f"Polled {plural(len(report.feeds), 'feed')} in {report.seconds:.1f} s", columns, cells)
