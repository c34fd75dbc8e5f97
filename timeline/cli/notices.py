"""`timeline notices` (what was sent) and `timeline preview` (what would be): thin wrappers over
`timeline.views` and `timeline.preview`, imported when a command runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from alerts.message import message_of
from timeline.cli import JsonOption, _config_failed, _now, _parse_moment, _service, _settings
from timeline.cli.output import Cell, Column, console, print_json, print_listing, split_csv
from timeline.dates import utc_text
from timeline.errors import ConfigError
from timeline.humanize import day, plural

NO_NOTICES = """No notices yet.
A first start is quiet by design: what came due before a milestone was first synced is history, not
news, and is not sent (set TIMELINE_NOTIFY_PAST=true to send it). New notices appear as reminders,
windows and due dates come up, and when a watched feed matches.
To see which notices will fire, and when: timeline preview --until {until}"""


def notices(
    type_: Annotated[
        list[str] | None,
        typer.Option(
            "--type", help="Only these types: globs as subscriptions take them (milestone.*); repeat or comma-separate."
        ),
    ] = None,
    since: Annotated[str | None, typer.Option(metavar="DATE", help="Only notices created since this date.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """Notices created so far."""
    from timeline.views import list_notices, notice_types

    patterns = split_csv(type_ or [])
    start = _parse_moment(since, "--since") if since else None
    service = _service()
    with service.engine.connect() as conn:
        types = notice_types(conn, patterns) if patterns else None
        found = [] if types == [] else list_notices(conn, types=types, since=start, limit=limit)
    if json_output:
        print_json(found)
        return
    if not found:
        if patterns or start:
            asked = " and ".join(
                part
                for part in (
                    f"of type {' or '.join(patterns)}" if patterns else "",
                    f"since {day(start)}" if start else "",
                )
                if part
            )
            console.print(f"No notices {asked}. `timeline notices` lists them all.", markup=False)
        else:
            until = _now().replace(year=_now().year + 1)
            console.print(NO_NOTICES.format(until=f"{until:%Y-%m-%d}"), markup=False)
        return
    rows = [
        (
            datetime.fromisoformat(n["created_at"].replace("Z", "+00:00")),
            n["type"],
            ", ".join(n["subjects"]),
            message_of(n["payload"]).headline,
        )
        for n in found
    ]
    _print_notices(plural(len(found), "notice") + (", the newest" if len(found) == limit else ""), "created", rows)


def _print_notices(title: str, when: str, rows: list[tuple[datetime, str, str, str]]) -> None:
    """A table of notices: the time in UTC (`when`: created, at), type, milestone(s) and headline."""
    columns = [
        Column(f"{when} (UTC)"),
        Column("type", id=True),
        Column("milestone", id=True),
        Column("notice", min_width=20),
    ]
    cells: list[list[Cell]] = [[f"{day(at)} {at:%H:%M}", *rest] for at, *rest in rows]
    print_listing(title, columns, cells)


def preview(
    until: Annotated[str, typer.Option(metavar="DATE", help="Up to this date (exclusive), e.g. 2028-01-01.")],
    from_: Annotated[str | None, typer.Option("--from", metavar="DATE", help="From this date (default: now).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Which notices would fire between --from and --until, and when. Changes nothing."""
    from timeline.config.milestones import load_milestones
    from timeline.preview import preview as preview_notices

    start = _parse_moment(from_, "--from") if from_ else _now()
    end = _parse_moment(until, "--until")
    if end <= start:
        raise typer.BadParameter(
            f"{until} is not after the start ({day(start)}{'' if from_ else ', now'}); "
            "give an --until later than --from",
            param_hint="--until",
        )
    settings = _settings()
    try:
        milestones = load_milestones(settings.milestones_file)
    except ConfigError as exc:
        _config_failed(exc)
    result = preview_notices(settings, milestones, start, end)
    for note in result.notes():
        typer.echo(note, err=True)
    if json_output:
        print_json([{"at": utc_text(at), "type": n.type, "key": n.key, "data": n.data} for at, n in result])
        return
    if not result.planned:
        console.print(f"No notices would fire from {day(start)} to {day(end)}.")
        return
    rows = [(at, n.type, n.data["milestone"], message_of(n.payload()).headline) for at, n in result]
    _print_notices(f"Notices from {day(start)} to {day(end)}", "at", rows)
