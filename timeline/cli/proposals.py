"""`timeline proposals`: the new dates read in the news, and accepting or rejecting them. Typer stays
here; the work is in `timeline.proposals`, imported when a command runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from timeline.cli.output import print_json

if TYPE_CHECKING:
    from timeline.service import Service

app = typer.Typer(
    rich_markup_mode="markdown",
    invoke_without_command=True,
    help="New dates for milestones read in matched news: list, accept, reject.",
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _service() -> Service:
    from timeline.cli import service_from_env

    return service_from_env()


def _now() -> Any:
    from timeline.cli import _now as now

    return now()


def _refused(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def describe(p: dict[str, Any]) -> list[str]:
    """A proposal as lines for people: what would change, then each piece of evidence."""
    title = p.get("milestone_title") or p["milestone"]
    lines = [f"#{p['id']} {p['milestone']} ({title}): {p['summary']}, {p['status']}"]
    if p.get("reason"):
        lines.append(f"  reason: {p['reason']}")
    for e in p["evidence"]:
        source = e.get("feed_name") or e["feed_id"]
        lines.append(f"  {source}: “{e['sentence']}”")
        if e.get("title"):
            lines.append(f"    {e['title']}")
        if e.get("link"):
            lines.append(f"    {e['link']}")
    return lines


@app.callback()
def proposals(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Also the accepted and rejected ones.")] = False,
    json_output: JsonOption = False,
) -> None:
    """List the open proposals (`--all`: every one), newest first, with their evidence."""
    if ctx.invoked_subcommand is not None:
        return
    from timeline.proposals.reads import list_proposals

    service = _service()
    try:
        with service.engine.connect() as conn:
            found = list_proposals(conn, status=None if all_ else "open")
    finally:
        service.close()
    if json_output:
        print_json(found)
        return
    if not found:
        typer.echo("No open proposals." if not all_ else "No proposals.")
        return
    for p in found:
        typer.echo("\n".join(describe(p)))


@app.command("accept")
def accept(
    proposal_id: Annotated[int, typer.Argument(help="The proposal's number")], json_output: JsonOption = False
) -> None:
    """Write the proposed date into the milestone (milestones.yaml, or the API milestone) and apply it."""
    from timeline.errors import TimelineError
    from timeline.proposals.decisions import accept as accept_proposal

    service = _service()
    try:
        done = accept_proposal(service, proposal_id, _now())
    except TimelineError as exc:
        raise _refused(exc) from None
    finally:
        service.close()
    if json_output:
        print_json(
            {
                "proposal": done.proposal,
                "written": {"path": str(done.written.path), "line": done.written.line} if done.written else None,
                "committed": done.committed,
                "notices": done.notices,
                "unapplied": done.unapplied,
            }
        )
        return
    p = done.proposal
    typer.echo(f"accepted #{p['id']}: {p['milestone']} {p['summary']}")
    if done.written is not None:
        w = done.written
        typer.echo(f"{w.path}:{w.line}: {w.before.strip()} → {w.after.strip()}")
    if done.committed:
        typer.echo(done.committed)
    if done.unapplied:
        typer.echo(f"written, but the config files do not apply yet: {done.unapplied}", err=True)


@app.command("reject")
def reject(
    proposal_id: Annotated[int, typer.Argument(help="The proposal's number")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why, kept with the proposal.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Close the proposal; the milestone stays as it is."""
    from timeline.errors import TimelineError
    from timeline.proposals.decisions import reject as reject_proposal

    service = _service()
    try:
        p = reject_proposal(service, proposal_id, _now(), reason)
    except TimelineError as exc:
        raise _refused(exc) from None
    finally:
        service.close()
    if json_output:
        print_json(p)
        return
    typer.echo(f"rejected #{p['id']}: {p['milestone']} {p['summary']}")
