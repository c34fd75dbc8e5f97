"""`timeline subscriptions ...`, `timeline deliveries`, `timeline redeliver`: thin wrappers over
`alerts.subscriptions`, `alerts.outbox_reads` and `alerts.sending`, imported when a command runs."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from timeline.cli.output import Cell, Column, console, print_listing, split_csv
from timeline.humanize import plural

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from alerts.errors import AlertsError
    from timeline.service import Service

subscriptions_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown", help="Webhook subscribers.")
T = TypeVar("T")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _service() -> Service:
    from timeline.cli import service_from_env

    return service_from_env()


def _dump(value: Any) -> None:
    plain = dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else value
    sys.stdout.write(json.dumps(plain, indent=2, ensure_ascii=False, default=str) + "\n")


def _failed(exc: AlertsError) -> NoReturn:
    field = getattr(exc, "field", None)
    typer.echo(f"error: {field + ': ' if field else ''}{exc}", err=True)
    raise typer.Exit(1)


def _write(change: Callable[[Connection, Service], T]) -> T:
    """`change` in one write transaction; an alerts error (a bad field, an unknown id) ends the
    command with its message and exit code 1."""
    from alerts.errors import AlertsError
    from timeline.db import write_transaction

    service = _service()
    try:
        with write_transaction(service.engine) as conn:
            return change(conn, service)
    except AlertsError as exc:
        _failed(exc)


def _list_option(help_text: str) -> Any:
    return typer.Option(help=f"{help_text} Repeat the option or comma-separate; all are kept.")


@subscriptions_app.command("add")
def add(
    url: Annotated[str | None, typer.Argument(help="The target: an http(s) URL, or an Apprise URL.")] = None,
    format_: Annotated[
        str, typer.Option("--format", help="standard, slack, discord, email (with --to) or apprise.")
    ] = "standard",
    to: Annotated[list[str] | None, _list_option("Format email: the addresses to send to.")] = None,
    quiet: Annotated[
        str | None, typer.Option(help="Quiet hours: nothing is sent between them, e.g. '22:00-07:00 Europe/Paris'.")
    ] = None,
    digest: Annotated[
        str | None, typer.Option(help="One message at this time instead of one per notice: 'daily 09:00 Europe/Paris'.")
    ] = None,
    events: Annotated[list[str] | None, _list_option("Notice types to send, as globs (default: *).")] = None,
    tags: Annotated[list[str] | None, _list_option("Only notices carrying one of these tags.")] = None,
    milestones: Annotated[list[str] | None, _list_option("Only notices about these milestones (ids).")] = None,
    description: Annotated[str | None, typer.Option(help="A note for people.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a subscription. Its whsec_ signing secret is shown this once."""
    from alerts.subscriptions import create_subscription
    from timeline.clock import utcnow

    created = _write(
        lambda conn, service: create_subscription(
            conn,
            service.alerts,
            utcnow(),
            url=url,
            format=format_,
            events=split_csv(events or []) or ["*"],
            tags=split_csv(tags or []),
            subjects=split_csv(milestones or []),
            description=description,
            to=split_csv(to or []) or None,
            quiet=quiet,
            digest=digest,
        )
    )
    if json_output:
        _dump(created)
        return
    view = created.subscription
    typer.echo(f"created {view.id} -> {', '.join(view.to) if view.to else view.url}")
    if view.format == "standard":
        typer.echo(f"secret (shown once; verify webhook-signature with it): {created.secret}")


@subscriptions_app.command("list")
def list_(json_output: JsonOption = False) -> None:
    """Every subscription, with its state."""
    from rich.text import Text

    from alerts.subscriptions import list_subscriptions

    service = _service()
    with service.engine.connect() as conn:
        found = list_subscriptions(conn)
    if json_output:
        _dump([dataclasses.asdict(s) for s in found])
        return
    if not found:
        console.print("No subscriptions. Add one with `timeline subscriptions add URL`.", markup=False)
        return
    columns = [Column("id", id=True), Column("url"), Column("format"), Column("events"), Column("origin")]
    columns.append(Column("state"))
    cells: list[list[Cell]] = [
        [
            s.id,
            s.url,
            s.format,
            ", ".join(s.events),
            s.origin,
            "active" if s.active else Text(f"disabled: {s.disabled_reason}", style="red"),
        ]
        for s in found
    ]
    print_listing(plural(len(found), "subscription"), columns, cells)


@subscriptions_app.command("remove")
def remove(subscription_id: str) -> None:
    """Delete a subscription made through the API or CLI (and cancel what it had pending)."""
    from alerts.subscriptions import delete_subscription
    from timeline.clock import utcnow

    cancelled = _write(lambda conn, _: delete_subscription(conn, subscription_id, utcnow()))
    typer.echo(f"removed {subscription_id} ({plural(cancelled, 'pending delivery', 'pending deliveries')} cancelled)")


@subscriptions_app.command("test")
def test(subscription_id: str, json_output: JsonOption = False) -> None:
    """Send a signed test.ping now and show what the target answered."""
    import asyncio

    from alerts.errors import AlertsError
    from alerts.sending import send_test

    service = _service()
    try:
        ping = asyncio.run(send_test(service.engine, service.alerts, subscription_id))
    except AlertsError as exc:
        _failed(exc)
    if json_output:
        _dump(ping)
        return
    result = ping.result
    typer.echo(f"webhook-id {ping.webhook_id}: status {result.status_code}, error {result.error or '-'}")
    if not (result.status_code and 200 <= result.status_code < 300):
        raise typer.Exit(1)


def deliveries(
    status: Annotated[str | None, typer.Option(help="pending, in_flight, delivered, dead or cancelled.")] = None,
    subscription: Annotated[str | None, typer.Option(help="Only this subscription.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    json_output: JsonOption = False,
) -> None:
    """The outbox: deliveries and their state."""
    from alerts.errors import AlertsError
    from alerts.outbox_reads import list_deliveries

    service = _service()
    try:
        with service.engine.connect() as conn:
            found = list_deliveries(conn, status=status, subscription_id=subscription, limit=limit)
    except AlertsError as exc:
        _failed(exc)
    if json_output:
        _dump([dataclasses.asdict(d) for d in found])
        return
    if not found:
        asked = " ".join(part for part in (status, f"for {subscription}" if subscription else "") if part)
        console.print(f"No {asked + ' ' if asked else ''}deliveries.", markup=False)
        return
    columns = [Column("id", id=True), Column("webhook-id"), Column("subscription", id=True)]
    columns += [Column("type"), Column("status"), Column("attempts"), Column("last error")]
    cells: list[list[Cell]] = [
        [str(d.id), d.webhook_id, d.subscription_id, d.notice_type, d.status, str(d.attempts), d.last_error or ""]
        for d in found
    ]
    print_listing(plural(len(found), "delivery", "deliveries"), columns, cells)


def redeliver(delivery_id: int) -> None:
    """Send a delivery again (same webhook-id), at the next delivery tick."""
    from alerts.outbox_reads import retry_delivery
    from timeline.clock import utcnow

    view = _write(lambda conn, _: retry_delivery(conn, delivery_id, utcnow()))
    typer.echo(f"delivery {view.id} ({view.webhook_id}) queued again")
