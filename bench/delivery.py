"""Signed, durable webhook deliveries per second vs a bare aiohttp loop, to the same local receiver.

A receiver (aiohttp, its own process, 127.0.0.1 only) answers 200 to every POST. Baseline: one
aiohttp session posting the same compact JSON bodies with 50 requests in flight, nothing else.
Ours: N notices published into a fresh SQLite file with one subscription (concurrency 50), then
`run_deliveries` fans them out, claims, signs, sends and records every attempt. Rates in deliveries
per second; ratio = ours / baseline (higher is better, target >= 0.5).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from alerts.config import AlertsConfig
from alerts.formats import encode
from alerts.notices import NewNotice, publish
from alerts.sending import run_deliveries
from alerts.subscriptions import create_subscription
from timeline.db import make_engine, upgrade

Row = tuple[str, float, float, float]
IN_FLIGHT = 50

_SERVER = """
import asyncio, sys
from aiohttp import web

async def hook(request):
    await request.read()
    return web.Response(text="ok")

async def main():
    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def _notices(count: int, at: datetime) -> list[NewNotice]:
    return [
        NewNotice(
            type="milestone.upcoming",
            key=f"bench:{i}",
            occurred_at=at,
            data={"milestone_id": f"m{i}", "title": f"Milestone {i}", "window": {"start": "2027", "end": "2028"}},
            tags=("bench",),
        )
        for i in range(count)
    ]


async def _baseline(url: str, bodies: list[bytes]) -> float:
    queue = iter(bodies)
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            for body in queue:
                async with session.post(url, data=body, headers={"content-type": "application/json"}) as response:
                    await response.read()
                    assert response.status == 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        return len(bodies) / (time.perf_counter() - start)


def _ours(url: str, count: int, folder: Path) -> float:
    engine = make_engine(f"sqlite:///{folder / 'bench.db'}")
    upgrade(engine)
    config = AlertsConfig(allow_private=True, timeout=timedelta(seconds=15))
    now = datetime.now(UTC)
    with engine.begin() as conn:
        create_subscription(conn, config, now, url=url, concurrency=IN_FLIGHT)
        publish(conn, _notices(count, now), now)
    start = time.perf_counter()
    stats = asyncio.run(run_deliveries(engine, config, now, "bench"))
    rate = stats.delivered / (time.perf_counter() - start)
    engine.dispose()
    if stats.delivered != count:
        raise RuntimeError(f"delivered {stats.delivered} of {count}")
    return rate


def run(count: int = 2000, rounds: int = 5) -> list[Row]:
    """Best of `rounds` for each side, alternating, in the same run against the same receiver."""
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = f"http://127.0.0.1:{int(server.stdout.readline())}/hook"
        now = datetime.now(UTC)
        bodies = [encode(n.payload()).encode() for n in _notices(count, now)]
        ours, baseline = [], []
        for _ in range(rounds):
            baseline.append(asyncio.run(_baseline(url, bodies)))
            with tempfile.TemporaryDirectory() as folder:
                ours.append(_ours(url, count, Path(folder)))
    finally:
        server.terminate()
        server.wait(10)
        if server.stdout is not None:
            server.stdout.close()
    best, base = max(ours), max(baseline)
    return [(f"signed durable deliveries/s, SQLite, {count} notices", best, base, best / base)]


def main() -> None:
    rows = run()
    print(f"{'benchmark':<50} {'ours/s':>10} {'baseline/s':>11} {'ratio':>7}")
    for name, ours, base, ratio in rows:
        print(f"{name:<50} {ours:>10.0f} {base:>11.0f} {ratio:>7.2f}")
    print(json.dumps([{"name": r[0], "ours": r[1], "baseline": r[2], "ratio": r[3]} for r in rows]))


if __name__ == "__main__":
    main()
