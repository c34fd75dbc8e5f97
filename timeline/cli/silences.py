"""`timeline silences` (list), `silences add`, `silences expire ID`: thin wrappers over
`alerts.silences`, imported when a command runs."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from timeline.cli.output import Cell, Column, console, print_listing
from timeline.humanize import instant, plural

if TYPE_CHECKING:
    from alerts.errors import AlertsError
    from alerts.silences import Silence
    from timeline.service import Service

app = typer.Typer(rich_markup_mode="markdown", help="Silences: mute the deliveries of some notices for a while.")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _service() -> Service:
    from timeline.cli import service_from_env

    return service_from_env()


def _now() -> datetime:
    from timeline.cli import _now

    return _now()


def _failed(exc: AlertsError) -> NoReturn:
    field = getattr(exc, "field", None)
    typer.echo(f"error: {'--' + field + ': ' if field else ''}{exc}", err=True)
    raise typer.Exit(1)


def until_of(text: str, now: datetime) -> datetime:
    """`--until`: a duration from now (`7d`, `12h`) or a date or instant (`2026-04-01`,
    `2026-04-01T09:00+02:00`; a date is its first instant, in UTC)."""
    from timeline.dates import parse_window
    from timeline.durations import parse_duration

    try:
        return now + parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_window(text).start
    except ValueError as exc:
        raise typer.BadParameter(
            f"{exc}; or give a duration from now such as 7d or 12h", param_hint="--until"
        ) from None


def _plain(silence: Silence) -> dict[str, Any]:
    from timeline.dates import utc_text as iso

    fields = dataclasses.asdict(silence)
    return {name: iso(value) if isinstance(value, datetime) else value for name, value in fields.items()}


def _what(silence: Silence) -> str:
    named = f"milestone {silence.subject}" if silence.subject is not None else f"tag {silence.tag}"
    return named if silence.types == "*" else f"{named}, {silence.types} notices"


@app.callback(invoke_without_command=True)
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include the silences that have ended.")] = False,
    json_output: JsonOption = False,
) -> None:
    """The silences holding now (with --all, those that ended too)."""
    if ctx.invoked_subcommand is not None:
        return
    from alerts.silence_store import list_silences

    service = _service()
    now = _now()
    with service.engine.connect() as conn:
        found = list_silences(conn, now, ended=all_)
    if json_output:
        sys.stdout.write(json.dumps([_plain(s) for s in found], indent=2, ensure_ascii=False) + "\n")
        return
    if not found:
        console.print("No silences hold now. Mute a milestone with `timeline silences add`.", markup=False)
        return
    columns = [Column("id", id=True), Column("mutes"), Column("until"), Column("reason", min_width=20)]
    cells: list[list[Cell]] = [
        [s.id, _what(s), ("ended " if s.ends_at <= now else "") + instant(s.ends_at), s.reason] for s in found
    ]
    print_listing(plural(len(found), "silence"), columns, cells)


@app.command("add")
def add(
    until: Annotated[str, typer.Option(metavar="DATE", help="Until this date or instant, or for a duration (7d).")],
    reason: Annotated[str, typer.Option(help="Why, for the people who will wonder.")],
    milestone: Annotated[str | None, typer.Option(help="Mute the notices about this milestone (id).")] = None,
    tag: Annotated[str | None, typer.Option(help="Mute the notices carrying this tag.")] = None,
    type_: Annotated[
        str | None, typer.Option("--type", help="Only notices of these types, a glob (milestone.overdue, milestone.*).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Mute a milestone's (or a tag's) notices until a date: they are still recorded, not sent."""
    from alerts.errors import AlertsError
    from alerts.silence_store import add_silence
    from timeline.db import write_transaction

    now = _now()
    ends = until_of(until, now)
    service = _service()
    try:
        with write_transaction(service.engine) as conn:
            made = add_silence(conn, now, until=ends, reason=reason, subject=milestone, tag=tag, types=type_)
    except AlertsError as exc:
        _failed(exc)
    if json_output:
        sys.stdout.write(json.dumps(_plain(made), indent=2, ensure_ascii=False) + "\n")
        return
    typer.echo(f"{made.id}: {_what(made)} muted until {instant(made.ends_at)}")


@app.command("expire")
def expire(silence_id: str) -> None:
    """End a silence now: notices from now on are sent as usual (what it muted stays unsent)."""
    from alerts.errors import AlertsError
    from alerts.silence_store import expire_silence
    from timeline.db import write_transaction

    service = _service()
    try:
        with write_transaction(service.engine) as conn:
            ended = expire_silence(conn, silence_id, _now())
    except AlertsError as exc:
        _failed(exc)
    typer.echo(f"{ended.id}: {_what(ended)} no longer muted (ended {instant(ended.ends_at)})")
