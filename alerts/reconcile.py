"""The one shape of every config sync: a pure diff, then a short apply.

A sync makes the stored rows of some kind (subscriptions here; milestones and feeds in the service
that uses alerts) say what a config file declares. `reconcile` decides, from the declared values
and the stored rows, which rows to add, which to change (and how) and which to retire; it reads no
database and no clock. The caller's `apply` writes the `Plan` in its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Stored = TypeVar("Stored")
Wanted = TypeVar("Wanted")


@dataclass(frozen=True)
class Plan(Generic[Wanted]):
    """What a sync will write: ids to add (with what was declared), ids to change (with the changed
    values only), ids to retire. Ids keep the declared order; retirements the stored order."""

    add: dict[str, Wanted] = field(default_factory=dict)
    change: dict[str, dict[str, Any]] = field(default_factory=dict)
    retire: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.change or self.retire)


def reconcile(
    wanted: Mapping[str, Wanted],
    stored: Mapping[str, Stored],
    *,
    changes: Callable[[Stored, Wanted], dict[str, Any]],
    retirable: Callable[[Stored], bool],
) -> Plan[Wanted]:
    """The plan that makes `stored` say what `wanted` says. `changes(row, declared)` gives the values
    to write on a stored row (empty: nothing to do); `retirable(row)` says whether a stored row that
    is no longer declared is to be retired (a row already retired, or owned by someone else, is not)."""
    add: dict[str, Wanted] = {}
    change: dict[str, dict[str, Any]] = {}
    for key, declared in wanted.items():
        row = stored.get(key)
        if row is None:
            add[key] = declared
        elif values := changes(row, declared):
            change[key] = values
    retire = tuple(key for key, row in stored.items() if key not in wanted and retirable(row))
    return Plan(add, change, retire)
