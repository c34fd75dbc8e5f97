"""`python -m bench [NAME ...]`: run the benchmarks (all, or the modules named) and print one table.

Every module of this package with a `run() -> list[(name, ours, baseline, ratio)]` is a benchmark.
Each row's ratio compares ours with a baseline measured in the same run, on the same machine, under
the same load: ratios travel between machines and moments where absolute figures do not. Whether a
ratio is better high or low depends on the row (see each module's docstring and docs/performance.md).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

Row = tuple[str, float, float, float]
ORDER = ("scan", "feeds", "ingest", "delivery", "workers")


def modules() -> list[str]:
    """Benchmark modules: the known order first, then any other module with a `run()`."""
    found = [m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_")]
    return [name for name in ORDER if name in found] + sorted(set(found) - set(ORDER))


def machine() -> str:
    load = os.getloadavg()[0]
    return f"{platform.node()}, {os.cpu_count()} cores, {platform.python_version()}, load {load:.2f} at start"


def main(argv: list[str]) -> int:
    json_out = "--json" in argv
    names = [a for a in argv if not a.startswith("-")] or modules()
    unknown = sorted(set(names) - set(modules()))
    if unknown:
        print(f"no benchmark named {', '.join(unknown)}; choose from {', '.join(modules())}", file=sys.stderr)
        return 2
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}", file=sys.stderr)
    table: list[tuple[str, Row, float]] = []  # (module, row, seconds the module took)
    for name in names:
        started = time.perf_counter()
        print(f"running bench/{name} ...", file=sys.stderr, flush=True)
        rows = importlib.import_module(f"bench.{name}").run()
        took = time.perf_counter() - started
        table.extend((name, row, took) for row in rows)
    if json_out:
        keys = ("name", "ours", "baseline", "ratio")
        print(json.dumps([{"module": m, **dict(zip(keys, r, strict=True))} for m, r, _ in table]))
        return 0
    width = max(len(row[0]) for _, row, _ in table)
    print(f"{'module':<9} {'benchmark':<{width}} {'ours':>11} {'baseline':>11} {'ratio':>8}")
    for module, (label, ours, base, ratio), _ in table:
        print(f"{module:<9} {label:<{width}} {ours:>11.4g} {base:>11.4g} {ratio:>8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
