"""`timeline dates TEXT...`: the dates a news text states, as `timeline.evidence` reads them.

It is how people (and tests) check the finder on their own sentences. This module imports only the
finder and the date vocabulary; Rich is loaded for the human table alone.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from timeline.dates import parse_window
from timeline.evidence import LANGUAGES, Mention, find_dates
from timeline.evidence.language import normalise_language

if TYPE_CHECKING:
    from rich.table import Table


def _published(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        return parse_window(value).start
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--published") from None


def _language(value: str | None) -> str | None:
    if value is None:
        return None
    code = normalise_language(value)
    if code is None:
        choices = ", ".join(LANGUAGES)
        raise typer.BadParameter(
            f"{value!r} is not a language read here; use one of {choices}, or leave it out to detect it",
            param_hint="--lang",
        )
    return code


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def _table(mentions: list[Mention]) -> Table:
    from rich.table import Table

    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("phrase", "window", "from", "to (inclusive)", "about"):
        table.add_column(column)
    for m in mentions:
        about = "" if m.about.value == "unspecified" else m.about.value
        table.add_row(m.text, m.when, _day(m.start), _day(m.end - timedelta(days=1)), about)
    return table


def dates(
    texts: Annotated[list[str], typer.Argument(help="One or more texts, each in quotes.", metavar="TEXT...")],
    lang: Annotated[
        str | None, typer.Option("--lang", help="fr, en, de or es (default: detected from each text).")
    ] = None,
    published: Annotated[
        str | None, typer.Option("--published", help="Publication date, e.g. 2026-03-14 (default: today).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The dates each TEXT states, as windows [start, end): years, halves, quarters, months, days,
    seasons, early/mid/late, ranges, and relative dates placed against --published."""
    code = _language(lang)
    when = _published(published)
    found = [find_dates(text, published=when, lang=code) for text in texts]
    if json_output:
        body = [[m.as_json() for m in mentions] for mentions in found]
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        return
    from rich.console import Console

    console = Console()
    for n, (text, mentions) in enumerate(zip(texts, found, strict=True)):
        if n:
            console.print()
        shown = text if len(text) <= 76 else text[:75] + "…"
        console.print(f"[bold]{shown}[/bold]", markup=True, highlight=False, soft_wrap=True)
        if mentions:
            console.print(_table(mentions))
        else:
            console.print("  no date found")
