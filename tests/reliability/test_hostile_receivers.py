"""H2 as a scenario: receivers answering 503 with hostile `Retry-After` values share every batch
with good receivers, two workers deliver at once, on SQLite and PostgreSQL. Counted at the
receivers: no delivery lost, none repeated (a hostile receiver gets each delivery exactly twice:
the 503, then the retry its subscription's schedule brings)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from alerts.config import AlertsConfig
from alerts.outbox import DELIVERIES
from alerts.sending import DeliveryStats, deliver_once
from alerts.sqltypes import utcnow
from tests.alerts.helpers import notice, publish_many, subscribe
from tests.alerts.receiver import Receiver, Reply

pytestmark = [pytest.mark.reliability]
NOTICES = 40
HOSTILE = ("²", "99999999999999999999", "-1", "1e309", "", "Wed, 31 Dec 9999 23:59:59 GMT", "\x7f" * 300)
GOOD = ("/good-1", "/good-2", "/good-3")


def _two_workers(engine: Engine, config: AlertsConfig, now: datetime) -> list[DeliveryStats]:
    stats: list[DeliveryStats] = []
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            stats.append(deliver_once(engine, config, now, name))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return stats


def _losses_and_repeats(receiver: Receiver, paths: tuple[str, ...], expected_each: int) -> tuple[int, int]:
    lost = repeated = 0
    for path in paths:
        copies = Counter(r.headers["webhook-id"] for r in receiver.at(path))
        lost += NOTICES - len(copies)
        repeated += sum(max(0, n - expected_each) for n in copies.values())
    return lost, repeated


@pytest.mark.timeout(90)
def test_hostile_retry_after_beside_good_receivers_loses_and_repeats_nothing(engine: Engine) -> None:
    config = AlertsConfig(allow_private=True, timeout=timedelta(seconds=3), batch_size=25, max_in_flight=60)
    now = utcnow()
    with Receiver() as receiver:
        hostile = tuple(f"/hostile-{i}" for i in range(len(HOSTILE)))
        for path, value in zip(hostile, HOSTILE, strict=True):
            receiver.reply(path, *[Reply(status=503, headers={"Retry-After": value})] * NOTICES, Reply(status=200))
        for path in GOOD + hostile:
            subscribe(engine, config, now, receiver.url(path), concurrency=8)
        publish_many(engine, [notice(f"n{i}", now) for i in range(NOTICES)], now)
        first = _two_workers(engine, config, now)
        assert sum(s.delivered for s in first) == NOTICES * len(GOOD)
        assert _losses_and_repeats(receiver, GOOD, 1) == (0, 0)
        # Past the longest Retry-After honoured (24 h): every hostile delivery is due again.
        second = _two_workers(engine, config, now + timedelta(hours=25))
        assert sum(s.delivered for s in second) == NOTICES * len(HOSTILE)
        assert _losses_and_repeats(receiver, GOOD, 1) == (0, 0)
        assert _losses_and_repeats(receiver, hostile, 2) == (0, 0)
        assert all(len(receiver.at(path)) == 2 * NOTICES for path in hostile)
    with engine.connect() as conn:
        counts = dict(conn.execute(select(DELIVERIES.c.status, func.count()).group_by(DELIVERIES.c.status)).all())
    assert counts == {"delivered": NOTICES * (len(GOOD) + len(HOSTILE))}
