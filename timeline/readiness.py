"""What /readyz says: whether the service can do its work, and what is wrong if anything is.

Not ready (503) only when it cannot work: the database is unreachable, or an attached scheduler is
not running. A config that failed to apply is not that: the last good config keeps serving, so the
service stays ready and the check says what is wrong. Only readers holding a token see the
problems' messages (they quote the file); others see where (file:line and field).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, text

from timeline.errors import Problem
from timeline.humanize import plural

OK = "ok"
ADVISORY = frozenset({"config"})
"""Checks that report a problem without making the service unready."""


def database_problem(engine: Engine) -> str | None:
    """Why the database cannot be used, or None when a query goes through."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the same thing here: unreachable
        first = str(exc).splitlines()[0] if str(exc) else ""
        return f"unreachable: {exc.__class__.__name__}: {first}"
    return None


def problem_lines(problems: Sequence[Problem], *, detailed: bool) -> list[str]:
    """The problems of a config that failed to apply, one line each: `file:line: field: message` when
    `detailed`, else only where each is (`milestones.yaml:4: milestones[0].when`), without the
    file's contents."""
    if detailed:
        return [str(p) for p in problems]
    return [
        f"{p.path.name}{f':{p.line}' if p.line is not None else ''}{f': {p.field}' if p.field else ''}"
        for p in problems
    ]


def config_check(problems: Sequence[Problem], *, detailed: bool) -> str:
    """`ok`, or what failed to apply while the last good config serves (see `problem_lines`)."""
    lines = problem_lines(problems, detailed=detailed)
    if not lines:
        return OK
    found = "; ".join(lines[:3])
    if len(lines) > 3:
        found += f" (and {plural(len(lines) - 3, 'more problem')})"
    if not detailed:
        found += "; send a token to see the messages"
    return f"not applied, the last good config is serving: {found}"


def is_ready(checks: dict[str, str]) -> bool:
    """Ready when every check that stops work is `ok` (the config check only informs)."""
    return all(value == OK for name, value in checks.items() if name not in ADVISORY)
