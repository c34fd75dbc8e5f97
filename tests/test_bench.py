"""The benchmarks at toy sizes: they are not run by CI in full (minutes, and noisy), but they must
keep working as the code under them changes. Nothing here is a timing assertion."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import delivery, evidence, feeds, ingest, scan, workers
from bench.feeds import generate_feed, local_server
from tests.conftest import require_pg


def _sane(rows: list[tuple[str, float, float, float]]) -> None:
    assert rows
    for label, ours, base, ratio in rows:
        assert label and all(math.isfinite(x) and x > 0 for x in (ours, base, ratio)), (label, ours, base, ratio)


def test_due_scan_benchmark_runs() -> None:
    _sane(scan.run(total=2_000, due=10))


def test_evidence_benchmark_runs() -> None:
    _sane(evidence.run(sentences=20, size=20_000, rounds=1))


def test_delivery_benchmark_runs() -> None:
    _sane(delivery.run(count=40, rounds=1))


def test_feed_benchmarks_run(tmp_path: Path) -> None:
    rows = [feeds._bench_ingest(tmp_path, 20)]
    body = generate_feed(20, seed=2)
    with local_server(feeds._serve, body) as base_url:
        rows.append(feeds._bench_unchanged(tmp_path, base_url, body))
        rows.append(feeds._bench_304(tmp_path, base_url, feeds=30))
    _sane(rows)


def test_first_poll_benchmark_runs() -> None:
    """A `timeline poll` process, the same poll in process, and a JSON Feed, at toy sizes."""
    _sane(ingest.run(entries=20, runs=1))


@pytest.mark.postgres
def test_worker_benchmarks_run(tmp_path: Path) -> None:
    """Real `timeline worker` processes on SQLite and PostgreSQL, a poll cycle, a worker's memory."""
    require_pg()
    rows = workers._bench_deliveries(tmp_path, count=40, rounds=1)
    rows += workers._bench_feeds(tmp_path, feeds=40)
    rows += workers._bench_memory(tmp_path, milestones=500, feeds=40)
    _sane([row for row in rows if "CPU ms" not in row[0]])  # a 40-delivery run may not register a tick of CPU
