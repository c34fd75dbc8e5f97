"""The `timeline` command. Typer lives here and nowhere else; each command is a thin wrapper over
`timeline.service`, `timeline.sync` and friends. Every listing takes `--json` for scripts.

A command imports what it needs when it runs, not when the program starts: `timeline --help` loads
neither the database layer nor the HTTP stacks (a test pins it), and each command pays only for its own
work.

A command evaluates the timeline as of the instant it was invoked (read by `timeline.entry` before
the heavy imports): `timeline once` run at 23:59:59 sees 23:59:59, however long start-up takes.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from timeline import __version__
from timeline.cli.output import Cell, Column, console, print_json, print_listing
from timeline.errors import ConfigError, TimelineError
from timeline.humanize import day, plural

if TYPE_CHECKING:
    from typer._click import Command

    from timeline.service import Service
    from timeline.settings import Settings

app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown", help="Dated milestones, due-date and feed alerts.")
db_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown", help="Database schema.")
app.add_typer(db_app, name="db")

_invoked_at: datetime | None = None


def _now() -> datetime:
    """The instant of this invocation: the program's start, or the clock (tests, freezegun)."""
    return _invoked_at or datetime.now(UTC)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"timeline-alerts {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Dated milestones, due-date and feed alerts."""


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _settings() -> Settings:
    from timeline.cli.configure import command_settings

    return command_settings()


def service_from_env() -> Service:
    """A service for one command: settings from the environment, schema migrated."""
    from timeline.service import Service

    service = Service(_settings())
    service.upgrade()
    return service


def _service(*, sync: bool = False) -> Service:
    service = service_from_env()
    if sync:
        service.reload_config(_now(), force=True)
    return service


def _parse_moment(text: str, name: str) -> datetime:
    from timeline.dates import parse_window

    try:
        return parse_window(text).start
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


def _config_failed(exc: ConfigError) -> None:
    for problem in exc.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(1)


@app.command()
def sync(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff, change nothing.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Apply the config files to the database and print what changed."""
    from timeline.sync import apply_config, summary

    service = _service()
    try:
        bundle = service.read_config()
        result = apply_config(
            service.engine,
            bundle,
            _now(),
            dry_run=dry_run,
            alerts_config=service.alerts,
            base_url=service.settings.base_url,
        )
    except ConfigError as exc:
        _config_failed(exc)
    if json_output:
        print_json(summary(result))
        return
    if not result.changes:
        typer.echo("No milestone changes.")
    for change in result.changes:
        typer.echo(("(dry run) " if dry_run else "") + change.describe())
    if result.feeds:
        f = result.feeds
        typer.echo(f"feeds: {len(f.added)} added, {len(f.changed)} changed, {len(f.deactivated)} deactivated")
    if result.subscriptions:
        s = result.subscriptions
        typer.echo(
            f"subscriptions: {len(s.created)} created, {len(s.updated)} updated, {len(s.deactivated)} deactivated"
        )


def _deadline(view: dict[str, Any], now: datetime) -> Cell:
    """`due 1 Jan 2028, in 393 days`, `overdue by 336 days` (in red), or the date alone when the
    milestone is done or cancelled: calendar days in the milestone's zone (`timeline.humanize`)."""
    from rich.text import Text

    from timeline.humanize import due

    due_at = datetime.fromisoformat(view["due_at"].replace("Z", "+00:00"))
    if view["status"] in ("done", "cancelled"):
        return day(due_at, view["timezone"])
    text = due(due_at, now, view["timezone"])
    return Text(text, style="red") if text.startswith("overdue") else text


@app.command("list")
def list_milestones(
    json_output: JsonOption = False,
    evidence: Annotated[bool, typer.Option("--evidence", help="Show feed items linked to each milestone.")] = False,
    archived: Annotated[bool, typer.Option("--archived", help="Include milestones removed from the file.")] = False,
) -> None:
    """The timeline: windows, status, days until due or overdue (applies the config first)."""
    from rich.text import Text

    from timeline.feeds.ingest import evidence_for
    from timeline.store import all_rows
    from timeline.views import milestone_view

    service = _service(sync=True)
    now = _now()
    with service.engine.connect() as conn:
        rows = all_rows(conn, include_archived=archived)
        views = [milestone_view(row, now) for row in rows]
        if evidence:
            found = evidence_for(conn, [v["id"] for v in views])
            for view in views:
                view["evidence"] = [item.as_dict() for item in found[view["id"]]]
    if json_output:
        print_json(views)
        return
    if not views:
        console.print(
            f"No milestones. Add some to {service.settings.milestones_file}, then run `timeline list` again.",
            markup=False,
        )
        return
    columns = [
        Column("id", id=True),
        Column("title", min_width=20),
        Column("window"),
        Column("deadline"),
        Column("status"),
    ]
    cells: list[list[Cell]] = []
    for view in views:
        cells.append(
            [view["id"], view["title"], view["window"]["text"], _deadline(view, now), view["status"].replace("_", " ")]
        )
        for item in view.get("evidence", []):
            cells.append(["", Text(f"↳ {item['title'] or item['link']}", style="dim"), "", "", ""])
    print_listing(f"Timeline on {day(now)}", columns, cells)


@app.command()
def once(json_output: JsonOption = False) -> None:
    """One full cycle (sync config, poll due feeds, scan due dates, deliver), then exit."""
    import dataclasses

    from timeline.sync import summary

    service = _service()
    try:
        report = service.once(_now())
    except ConfigError as exc:
        _config_failed(exc)
    finally:
        service.close()
    if json_output:
        print_json(
            {
                "changes": summary(report.sync)["changes"] if report.sync else [],
                "notices": report.notices,
                "feeds_polled": len(report.polls.feeds) if report.polls else 0,
                "deliveries": dataclasses.asdict(report.deliveries) if report.deliveries else None,
            }
        )
        return
    for change in report.sync.changes if report.sync else []:
        typer.echo(change.describe())
    if report.polls:
        typer.echo(f"{plural(len(report.polls.feeds), 'feed')} polled")
    typer.echo(f"{plural(len(report.notices), 'new due-date notice')}")
    for key in report.notices:
        typer.echo(f"  {key}")
    if report.deliveries:
        d = report.deliveries
        typer.echo(f"deliveries: {d.delivered} delivered, {d.retrying} to retry, {d.dead} dead")


@app.command()
def serve() -> None:
    """API and scheduler in one process (the default main job)."""
    from timeline.runner import run_serve

    run_serve(_settings())


@app.command()
def web() -> None:
    """The HTTP API only (Procfile `web`)."""
    from timeline.runner import run_web

    run_web(_settings())


@app.command()
def worker() -> None:
    """The scheduler only (Procfile `worker`): config reload, due scan, feed polls, deliveries."""
    from timeline.runner import run_worker

    run_worker(_settings())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest migration."""
    service = _service()
    console.print(f"Database at the newest schema: {service.engine.url.render_as_string(hide_password=True)}")


def _mount() -> None:
    from timeline.cli import alerts, configure, dates, feeds, notices, proposals, silences

    app.command()(configure.check)
    app.command()(configure.init)

    app.command("notices")(notices.notices)
    app.command("preview")(notices.preview)
    app.add_typer(feeds.app, name="feeds")
    app.command("poll")(feeds.poll)
    app.add_typer(alerts.subscriptions_app, name="subscriptions")
    app.command("deliveries")(alerts.deliveries)
    app.command("redeliver")(alerts.redeliver)
    app.add_typer(silences.app, name="silences")
    app.command("dates")(dates.dates)
    app.add_typer(proposals.app, name="proposals")


_mount()


_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH"}


def _plain_help(command: Command) -> None:
    """Help without Typer's `<bool>`/`<str>` type markers: a flag shows nothing after its name, an
    option that takes a value shows what it takes (`TEXT`, `INTEGER`, `DATE`), an argument its name."""
    for param in [*command.params, command.get_help_option(typer.Context(command))]:
        if isinstance(param, TyperOption) and param.metavar is None:
            bare = param.bare_type().removeprefix("list[").removesuffix("]")
            param.metavar = "" if param.is_flag or param.count else _METAVARS.get(bare, bare.upper())
        elif isinstance(param, TyperArgument):
            param.metavar = param.metavar or (param.name or "value").upper()
            # Typer prints an argument's type beside its name whatever its metavar: name it once.
            setattr(param, "display_type_rich", _no_type)  # noqa: B010
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            _plain_help(sub)


def _no_type(ctx: object) -> None:
    return None


def command() -> Command:
    """The command `timeline` runs (also for shell completion), its help made plain."""
    built = typer.main.get_command(app)
    _plain_help(built)
    return built


def main(invoked_at: datetime | None = None) -> None:
    global _invoked_at
    _invoked_at = invoked_at
    try:
        command().main(prog_name="timeline")
    except TimelineError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


__all__ = ["app", "command", "main"]
