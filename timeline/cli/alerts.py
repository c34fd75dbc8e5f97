"""`timeline subscriptions ...`, `timeline deliveries`, `timeline redeliver`: thin wrappers over
`alerts.subscriptions`, `alerts.deliveries` and `alerts.delivery`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from alerts.deliveries import list_deliveries, retry_delivery
from alerts.delivery import send_test
from alerts.errors import AlertsError
from alerts.sqltypes import utcnow
from alerts.subscriptions import create_subscription, delete_subscription, list_subscriptions
from timeline.db import write_transaction
from timeline.service import Service

subscriptions_app = typer.Typer(no_args_is_help=True, help="Webhook subscribers.")
console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
CsvOption = Annotated[str, typer.Option(help="Comma-separated.")]


def _service() -> Service:
    from timeline.cli import service_from_env

    return service_from_env()


def _dump(value: Any) -> None:
    plain = dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else value
    sys.stdout.write(json.dumps(plain, indent=2, ensure_ascii=False, default=str) + "\n")


def _failed(exc: AlertsError) -> None:
    field = getattr(exc, "field", None)
    typer.echo(f"error: {field + ': ' if field else ''}{exc}", err=True)
    raise typer.Exit(1)


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@subscriptions_app.command("add")
def add(
    url: str,
    format_: Annotated[str, typer.Option("--format", help="standard, slack or discord.")] = "standard",
    events: CsvOption = "*",
    tags: CsvOption = "",
    milestones: CsvOption = "",
    description: Annotated[str | None, typer.Option(help="A note for people.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Create a subscription. Its whsec_ signing secret is shown this once."""
    service = _service()
    try:
        with write_transaction(service.engine) as conn:
            created = create_subscription(
                conn,
                service.alerts,
                utcnow(),
                url=url,
                format=format_,
                events=_csv(events),
                tags=_csv(tags),
                subjects=_csv(milestones),
                description=description,
            )
    except AlertsError as exc:
        _failed(exc)
    if json_output:
        _dump(created)
        return
    typer.echo(f"created {created.subscription.id} -> {created.subscription.url}")
    typer.echo(f"secret (shown once; verify webhook-signature with it): {created.secret}")


@subscriptions_app.command("list")
def list_(json_output: JsonOption = False) -> None:
    """Every subscription, with its state."""
    service = _service()
    with service.engine.connect() as conn:
        found = list_subscriptions(conn)
    if json_output:
        _dump([dataclasses.asdict(s) for s in found])
        return
    table = Table()
    for column in ("id", "url", "format", "events", "origin", "state"):
        table.add_column(column)
    for s in found:
        state = "active" if s.active else f"[red]disabled: {s.disabled_reason}[/red]"
        table.add_row(s.id, s.url, s.format, ", ".join(s.events), s.origin, state)
    console.print(table)


@subscriptions_app.command("remove")
def remove(subscription_id: str) -> None:
    """Delete a subscription made through the API or CLI (and cancel what it had pending)."""
    service = _service()
    try:
        with write_transaction(service.engine) as conn:
            cancelled = delete_subscription(conn, subscription_id, utcnow())
    except AlertsError as exc:
        _failed(exc)
    typer.echo(f"removed {subscription_id} ({cancelled} pending deliveries cancelled)")


@subscriptions_app.command("test")
def test(subscription_id: str, json_output: JsonOption = False) -> None:
    """Send a signed test.ping now and show what the target answered."""
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
    service = _service()
    try:
        with service.engine.connect() as conn:
            found = list_deliveries(conn, status=status, subscription_id=subscription, limit=limit)
    except AlertsError as exc:
        _failed(exc)
    if json_output:
        _dump([dataclasses.asdict(d) for d in found])
        return
    table = Table()
    for column in ("id", "webhook-id", "subscription", "type", "status", "attempts", "last error"):
        table.add_column(column)
    for d in found:
        table.add_row(
            str(d.id), d.webhook_id, d.subscription_id, d.notice_type, d.status, str(d.attempts), d.last_error or ""
        )
    console.print(table)


def redeliver(delivery_id: int) -> None:
    """Send a delivery again (same webhook-id), at the next delivery tick."""
    service = _service()
    try:
        with write_transaction(service.engine) as conn:
            view = retry_delivery(conn, delivery_id, utcnow())
    except AlertsError as exc:
        _failed(exc)
    typer.echo(f"delivery {view.id} ({view.webhook_id}) queued again")
