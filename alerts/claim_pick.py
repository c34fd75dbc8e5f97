"""The one lease protocol of work shared by workers: deliveries (the outbox) and feed polls.

A claim picks due, unheld work with `picked` and marks it with the holder and the lease's end in
one UPDATE; every later write for that work is guarded by the holder (compare-and-set), so a holder
whose lease ran out and was taken over writes nothing; a holder may renew its lease or release the
work (due at once for another worker). `tests/test_leases.py` runs this contract on both kinds of
work, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select


def picked(dialect: str, column: Any, query: Any, table: Table) -> Any:
    """`column` among the rows `query` picks, evaluated once: the WHERE clause of a claim's UPDATE.

    On PostgreSQL the rows are locked with SKIP LOCKED inside a materialised CTE: a plain
    `IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` may be re-run by the planner and take more
    than n rows. SQLite runs the whole UPDATE under its write lock, so a subquery is enough.

    This is the compare-and-set by itself: FOR UPDATE re-checks the query's conditions on the
    newest version of each row it locks (a row another worker took in the meantime no longer
    matches), and SQLite lets nothing change between pick and update. Repeating the conditions in
    the UPDATE made both planners walk every due row against the picked ones, at a cost that grows
    with the rows due (see docs/design.md#write-before-you-send).
    """
    if dialect == "postgresql":
        cte = query.with_for_update(skip_locked=True, of=table).cte().prefix_with("MATERIALIZED")
        return column.in_(select(cte.c[0]))
    return column.in_(query.scalar_subquery())
