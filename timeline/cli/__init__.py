"""The `timeline` command. Typer lives here and nowhere else; each command is a thin wrapper over
`timeline.service`, `timeline.sync` and friends. Every listing takes `--json` for scripts.

A command evaluates the timeline as of the instant it was invoked (read by `timeline.entry` before
the heavy imports): `timeline once` run at 23:59:59 sees 23:59:59, however long start-up takes.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from alerts.sqltypes import utcnow
from timeline import rules
from timeline.config.bundle import load_config
from timeline.config.feeds import unknown_milestones
from timeline.config.milestones import load_milestones
from timeline.dates import parse_window
from timeline.errors import ConfigError, SettingsError, TimelineError
from timeline.feeds.ingest import evidence_for
from timeline.logs import setup_logging
from timeline.preview import preview as preview_notices
from timeline.service import Service, alerts_config
from timeline.settings import Settings, load_settings
from timeline.store import all_rows
from timeline.sync import apply_config, summary
from timeline.views import list_notices, milestone_view

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Dated milestones, due-date and feed alerts.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
app.add_typer(db_app, name="db")

console = Console()

_invoked_at: datetime | None = None


def _now() -> datetime:
    """The instant of this invocation: the program's start, or the clock (tests, freezegun)."""
    return _invoked_at or utcnow()


JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _settings() -> Settings:
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    setup_logging(settings.log_level)
    return settings


def service_from_env() -> Service:
    """A service for one command: settings from the environment, schema migrated."""
    service = Service(_settings())
    service.upgrade()
    return service


def _service(*, sync: bool = False) -> Service:
    service = service_from_env()
    if sync:
        service.reload_config(_now(), force=True)
    return service


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def _parse_moment(text: str, name: str) -> datetime:
    try:
        return parse_window(text).start
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


def _config_failed(exc: ConfigError) -> None:
    for problem in exc.problems:
        typer.echo(str(problem), err=True)
    raise typer.Exit(1)


@app.command()
def check() -> None:
    """Validate the config files without touching the database (exit 1 on any problem)."""
    settings = _settings()
    try:
        bundle = load_config(settings, alerts_config(settings))
    except ConfigError as exc:
        _config_failed(exc)
    typer.echo(f"{settings.milestones_file}: {len(bundle.milestones)} milestones, OK")
    typer.echo(f"{settings.feeds_file}: {len(bundle.feeds or [])} feeds, OK")
    for warning in unknown_milestones(bundle.feeds or [], {m.id for m in bundle.milestones}):
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"{settings.subscriptions_file}: {len(bundle.subscriptions or [])} subscriptions, OK")


@app.command()
def sync(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the diff, change nothing.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Apply the config files to the database and print what changed."""
    service = _service()
    try:
        bundle = load_config(service.settings, service.alerts)
        result = apply_config(service.engine, bundle, _now(), dry_run=dry_run, alerts_config=service.alerts)
    except ConfigError as exc:
        _config_failed(exc)
    if json_output:
        _print_json(summary(result))
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


@app.command("list")
def list_milestones(
    json_output: JsonOption = False,
    evidence: Annotated[bool, typer.Option("--evidence", help="Show feed items linked to each milestone.")] = False,
    archived: Annotated[bool, typer.Option("--archived", help="Include milestones removed from the file.")] = False,
) -> None:
    """The timeline: windows, status, days until due or overdue (applies the config first)."""
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
        _print_json(views)
        return
    table = Table(title=f"Timeline on {now:%Y-%m-%d}")
    for column in ("id", "window", "due (UTC)", "status", "due in"):
        table.add_column(column)
    for view in views:
        days = view["days_until_due"]
        when = f"{days} days" if days >= 0 else f"[red]{-days} days overdue[/red]"
        if view["status"] in ("done", "cancelled"):
            when = "-"
        table.add_row(view["id"], view["window"]["text"], view["due_at"][:16], view["status"], when)
        for item in view.get("evidence", []):
            table.add_row("", f"[dim]↳ {item['title'] or item['link']}[/dim]", "", "", "")
    console.print(table)


@app.command()
def notices(
    type_: Annotated[str | None, typer.Option("--type", help="Only this type, e.g. milestone.due.")] = None,
    since: Annotated[str | None, typer.Option(help="Only notices created since this date.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """Notices created so far."""
    service = _service()
    with service.engine.connect() as conn:
        found = list_notices(conn, type_=type_, since=_parse_moment(since, "--since") if since else None, limit=limit)
    if json_output:
        _print_json(found)
        return
    table = Table()
    for column in ("created", "type", "key", "summary"):
        table.add_column(column)
    for n in found:
        table.add_row(n["created_at"][:19], n["type"], n["key"], n["payload"]["data"].get("summary") or "")
    console.print(table)


@app.command()
def preview(
    until: Annotated[str, typer.Option(help="Up to this date (exclusive), e.g. 2028-01-01.")],
    from_: Annotated[str | None, typer.Option("--from", help="From this date (default: now).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Which notices would fire between --from and --until, and when. Changes nothing."""
    settings = _settings()
    start = _parse_moment(from_, "--from") if from_ else _now()
    end = _parse_moment(until, "--until")
    try:
        milestones = load_milestones(settings.milestones_file)
    except ConfigError as exc:
        _config_failed(exc)
    planned = preview_notices(settings, milestones, start, end)
    if json_output:
        _print_json([{"at": rules.iso(at), "type": n.type, "key": n.key, "data": n.data} for at, n in planned])
        return
    table = Table(title=f"Notices from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    for column in ("at (UTC)", "type", "milestone", "summary"):
        table.add_column(column)
    for at, n in planned:
        table.add_row(f"{at:%Y-%m-%d %H:%M}", n.type, n.data["milestone"], n.data.get("summary", ""))
    console.print(table)


@app.command()
def once(json_output: JsonOption = False) -> None:
    """One full cycle (sync config, poll due feeds, scan due dates, deliver), then exit."""
    service = _service()
    try:
        report = service.once(_now())
    except ConfigError as exc:
        _config_failed(exc)
    if json_output:
        _print_json(
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
        typer.echo(f"{len(report.polls.feeds)} feeds polled")
    typer.echo(f"{len(report.notices)} new due-date notices")
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
    from timeline.cli import alerts, dates, feeds

    app.add_typer(feeds.app, name="feeds")
    app.command("poll")(feeds.poll)
    app.add_typer(alerts.subscriptions_app, name="subscriptions")
    app.command("deliveries")(alerts.deliveries)
    app.command("redeliver")(alerts.redeliver)
    app.command("dates")(dates.dates)


_mount()


def main(invoked_at: datetime | None = None) -> None:
    global _invoked_at
    _invoked_at = invoked_at
    try:
        app()
    except TimelineError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)


__all__ = ["app", "main"]
