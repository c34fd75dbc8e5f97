"""Durations as users write them: `30s`, `15m`, `2h`, `90d`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
HINT = "write a whole number and a unit, like 30s, 15m, 2h, 90d or 2w"
MAX = timedelta(days=36500)  # a century: anything longer is a typo


def parse_duration(text: str | int) -> timedelta:
    """`"90d"` -> 90 days. A bare integer is seconds. Raises ValueError that says how to write one."""
    if isinstance(text, bool):
        raise ValueError(f"{text!r} is not a duration; {HINT}")
    if isinstance(text, int):
        if not 0 <= text <= MAX.total_seconds():
            raise ValueError(f"{text!r} seconds is out of range; {HINT}")
        return timedelta(seconds=text)
    match = _PATTERN.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration; {HINT}")
    seconds = int(match[1]) * _UNITS[match[2]]
    if seconds > MAX.total_seconds():
        raise ValueError(f"{text!r} is longer than a century; {HINT}")
    return timedelta(seconds=seconds)


def duration_field(value: Any) -> Any:
    """A model's before-validator: text or whole seconds become a timedelta (ValueError saying how
    to write one); anything else is left for the model's own type check to refuse."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        return parse_duration(value)
    return value


Duration = Annotated[timedelta, BeforeValidator(duration_field)]
"""A pydantic field written as `30s`, `15m`, `2h`, `90d`, `2w` or whole seconds."""


def format_duration(delta: timedelta) -> str:
    """The shortest exact text for `delta`: 7776000s -> `90d`."""
    seconds = int(delta.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_duration_list(text: str) -> list[timedelta]:
    """`"5s,5m,30m"` -> [5s, 5m, 30m]."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError(f"{text!r} is empty; give a comma-separated list like 5s,5m,30m")
    return [parse_duration(p) for p in parts]
