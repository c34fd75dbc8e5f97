"""Checking and reloading a large config: `timeline check` of a 10,000-milestone file against
PyYAML's C loader reading the same file.

- check: `timeline check` as a process (start, imports, reading, validating, resolving every
  window) against `python -c "yaml.load(..., Loader=yaml.CSafeLoader)"` as a process, run in turns
  (several of each, the median kept); one row in wall time, one in the processes' CPU time (user +
  system, from `getrusage`), which moves less with the machine's load. Target: ratio <= 1.5.
- check in process: what the check itself costs (read, parse, validate, resolve: `load_config`),
  without the process start, against the C loader in the same process (CPU time, best of several).
- reload, unchanged: the service's reload when the files' bytes are those applied (it reads and
  hashes them, and parses nothing) against the C loader in process. Lower is better.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

Row = tuple[str, float, float, float]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
LOADER = "import sys, yaml; yaml.load(open(sys.argv[1], 'rb'), Loader=yaml.CSafeLoader)"


def milestones_yaml(count: int) -> str:
    """A file like the shipped one, `count` milestones long: points and spans, zones, attributes."""
    parts = ["defaults:\n  timezone: UTC\n  remind: [90d, 30d, 7d, 1d]\n  grace: 30d\nmilestones:\n"]
    for i in range(count):
        year = 2026 + i % 10
        if i % 3 == 0:
            parts.append(
                f"  - id: m{i:05d}\n    title: Construction phase {i} of the programme\n    subject: Company {i % 50}\n"
                f"    starts: {year}-Q{1 + i % 4}\n    ends: {year + 1}-H{1 + i % 2}\n    timezone: Europe/Paris\n"
                f"    status: in_progress\n    tags: [datacenter, us, t{i % 7}]\n    attributes:\n"
                f"      investment_usd: {i * 1000}\n      country: US\n"
            )
        else:
            parts.append(
                f"  - id: m{i:05d}\n    title: Milestone number {i}\n"
                f"    when: {year}-{1 + i % 12:02d}-{1 + i % 28:02d}\n    status: planned\n    tags: [gamma]\n"
                "    remind: [30d, 7d]\n"
            )
    return "".join(parts)


def _process(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of `command` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _check_rows(folder: Path, count: int, rounds: int) -> list[Row]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMELINE_")}
    env |= {"TIMELINE_CONFIG_DIR": str(folder), "TIMELINE_DATABASE_URL": f"sqlite:///{folder / 'none.db'}"}
    timeline = [str(Path(sys.executable).parent / "timeline"), "check"]
    loader = [sys.executable, "-c", LOADER, str(folder / "milestones.yaml")]
    ours, base = [], []
    for _ in range(rounds):  # in turns, so that both see the same load
        ours.append(_process(timeline, env))
        base.append(_process(loader, env))
    rows = []
    for index, unit in ((0, "s"), (1, "CPU s")):
        mine = statistics.median(run[index] for run in ours)
        theirs = statistics.median(run[index] for run in base)
        rows.append((f"check {count:,} milestones vs the C loader, processes ({unit})", mine, theirs, mine / theirs))
    return rows


def _best(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def _in_process_row(folder: Path, count: int, rounds: int) -> Row:
    from timeline.config.bundle import load_config
    from timeline.settings import alerts_config, load_settings

    settings = load_settings(config_dir=folder, database_url=f"sqlite:///{folder / 'none.db'}")
    alerts = alerts_config(settings)
    data = (folder / "milestones.yaml").read_bytes()
    ours, base = [], []
    for _ in range(rounds):
        started = time.process_time()
        load_config(settings, alerts)
        ours.append(time.process_time() - started)
        started = time.process_time()
        yaml.load(data, Loader=yaml.CSafeLoader)
        base.append(time.process_time() - started)
    mine, theirs = min(ours), min(base)
    return (f"check {count:,} milestones vs the C loader, in process (CPU s)", mine, theirs, mine / theirs)


def _reload_row(folder: Path, count: int, rounds: int) -> Row:
    from timeline.service import Service
    from timeline.settings import load_settings

    settings = load_settings(config_dir=folder, database_url=f"sqlite:///{folder / 'reload.db'}", config_settle="0s")
    service = Service(settings)
    service.upgrade()
    service.reload_config(NOW, force=True)
    assert service.config_status().ok
    data = (folder / "milestones.yaml").read_bytes()
    ours = _best(lambda: service.reload_config(NOW), rounds)
    base = _best(lambda: yaml.load(data, Loader=yaml.CSafeLoader), rounds)
    service.close()
    return (f"reload, {count:,} milestones unchanged, vs the C loader in process (s)", ours, base, ours / base)


def run(count: int = 10_000, rounds: int = 5) -> list[Row]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "milestones.yaml").write_text(milestones_yaml(count))
        rows = _check_rows(folder, count, rounds)
        rows.append(_in_process_row(folder, count, rounds))
        rows.append(_reload_row(folder, count, rounds))
    return rows


if __name__ == "__main__":
    for label, ours, base, ratio in run():
        print(f"{label}: ours {ours:.3f}, baseline {base:.3f}, ratio {ratio:.3f}")
