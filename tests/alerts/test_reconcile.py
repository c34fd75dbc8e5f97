"""The diff every config sync makes: which declared rows to add, which stored rows to change, which
to retire, as properties over any declared and stored sets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alerts.reconcile import Plan, reconcile

keys = st.text(alphabet="abcdef", min_size=1, max_size=3)
declared = st.dictionaries(keys, st.integers(0, 3))
stored = st.dictionaries(keys, st.tuples(st.integers(0, 3), st.booleans()))


def _plan(wanted: dict[str, int], rows: dict[str, tuple[int, bool]]) -> Plan[int]:
    return reconcile(
        wanted,
        rows,
        changes=lambda row, value: {"value": value} if row[0] != value else {},
        retirable=lambda row: row[1],
    )


@given(declared, stored)
def test_a_plan_adds_the_new_changes_the_different_and_retires_the_undeclared(
    wanted: dict[str, int], rows: dict[str, tuple[int, bool]]
) -> None:
    plan = _plan(wanted, rows)
    assert plan.add == {k: v for k, v in wanted.items() if k not in rows}
    assert plan.change == {k: {"value": v} for k, v in wanted.items() if k in rows and rows[k][0] != v}
    assert plan.retire == tuple(k for k, (_, active) in rows.items() if active and k not in wanted)
    assert bool(plan) == bool(plan.add or plan.change or plan.retire)


@given(declared)
def test_applying_a_plan_leaves_nothing_to_do(wanted: dict[str, int]) -> None:
    assert not _plan(wanted, {k: (v, True) for k, v in wanted.items()})


def test_a_plan_keeps_the_declared_order() -> None:
    plan = _plan({"c": 1, "a": 2, "b": 3}, {"a": (0, True), "z": (0, True), "y": (0, False)})
    assert list(plan.add) == ["c", "b"]
    assert plan.change == {"a": {"value": 2}}
    assert plan.retire == ("z",)
