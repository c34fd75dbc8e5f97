"""What the commands print: JSON for scripts, tables for people.

Tables are laid out for the terminal they print to, down to 80 columns: an id (the key other commands
take) is never cut, titles and texts wrap instead, and dates read as people write them (`1 Jan 2028`).
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def split_csv(values: Iterable[str]) -> list[str]:
    """The items of a repeatable option whose values may also be comma-separated, in order, once each:
    `--events 'milestone.*' --events 'feed.*,test.ping'` gives the three."""
    items = (part.strip() for value in values for part in value.split(","))
    return list(dict.fromkeys(item for item in items if item))


@dataclass(frozen=True)
class Column:
    """A column of a listing. An `id` column (the key other commands take) is never wrapped nor
    shortened. A text column wraps; it needs room for its longest word up to `fold_after` (longer
    words fold), and at least `min_width`."""

    header: str
    id: bool = False
    min_width: int = 0
    fold_after: int = 14


Cell = str | Text
"""A value of a listing: a `str` is shown as it is (never read as markup: titles come from files and
feeds), a `Text` carries its own style."""


def _text(value: Cell) -> Text:
    return value if isinstance(value, Text) else Text(value)


def _min_width(column: Column, values: Sequence[str]) -> int:
    """The width under which `column` would cut an id or fold a word."""
    if column.id:
        return max([len(column.header), *(len(v) for v in values)])
    words = [len(word) for v in [column.header, *values] for word in v.split()]
    return max(min(max(words, default=1), column.fold_after), column.min_width)


def _fits(table: Table, headers: Sequence[str], ids: Sequence[str]) -> bool:
    """Whether `table` prints on this terminal with every header and every id whole (Rich crops
    a table whose columns cannot shrink enough: rendering it is the one exact test)."""
    width = console.size.width
    trial = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    with trial.capture() as capture:
        trial.print(table, crop=False)
    lines = capture.get().splitlines()
    shown = "\n".join(lines)
    flat = [line.replace(" ", "") for line in lines]
    return (
        all(cell_len(line) <= width for line in lines)
        and all(any(h.replace(" ", "") in line for line in flat) for h in headers)
        and all(i in shown for i in ids if i)
    )


def print_listing(title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> None:
    """`rows` as a table when the terminal has room for every id whole and every text column at its
    minimum, else as one block per row: its ids on their own line(s), then each other value after
    its header, wrapped to the terminal. Either way no id is cut."""
    table = Table(title=title)
    for i, column in enumerate(columns):
        least = _min_width(column, [_text(row[i]).plain for row in rows])
        if column.id:
            table.add_column(column.header, no_wrap=True, min_width=least, overflow="fold")
        else:
            table.add_column(column.header, min_width=least, overflow="fold")
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    if _fits(table, [c.header for c in columns], [str(r[i]) for r in rows for i, c in enumerate(columns) if c.id]):
        console.print(table)
        return
    if title:
        console.print(Text(title, style="bold"))
    for row in rows:
        console.print()
        for column, value in zip(columns, row, strict=True):
            if column.id and value:
                console.print(Text(str(value), style="bold"), no_wrap=True, crop=False, overflow="ignore")
        for column, value in zip(columns, row, strict=True):
            if not column.id and value:
                line = Text.assemble((f"{column.header}: ", "dim"), _text(value))
                for piece in line.wrap(console, max(console.size.width - 2, 20)):
                    piece.rstrip()
                    console.print(Text("  ") + piece, soft_wrap=True)
