"""Workers recording outcomes for the same subscriptions at the same time never deadlock.

Found by the 3-worker scenario under load: `record()` updates each subscription's health after the
batch's deliveries, and two workers touching the subscriptions in different orders deadlocked
(PostgreSQL aborted one; its batch's outcomes were lost and those deliveries sent again after their
lease). Subscriptions are now updated in id order.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from alerts.config import AlertsConfig
from alerts.notices import NewNotice, publish
from alerts.outbox import claim, fan_out, record
from alerts.policy import AttemptResult
from alerts.subscriptions import create_subscription

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]
SUBSCRIBERS = 6


@pytest.mark.timeout(60)
def test_concurrent_records_over_shared_subscriptions_do_not_deadlock(db: Engine) -> None:
    from timeline.db import upgrade

    upgrade(db)
    config = AlertsConfig(allow_private=True)
    now = datetime.now(UTC)
    with db.begin() as conn:
        for i in range(SUBSCRIBERS):
            create_subscription(conn, config, now, url=f"http://127.0.0.1:9/{i}")
        publish(conn, [NewNotice("test.ping", f"n{i}", now, {"n": i}) for i in range(300)], now)
        while fan_out(conn, now).notices:
            pass
    errors: list[BaseException] = []
    gate = threading.Barrier(3)

    def worker(name: str) -> None:
        rng = random.Random(name)
        gate.wait()
        try:
            while True:
                with db.begin() as conn:
                    batch = claim(conn, name, now, 12, timedelta(minutes=5))
                if not batch:
                    return
                rng.shuffle(batch)
                outcomes = [(c, AttemptResult(200, 1.0)) for c in batch]
                with db.begin() as conn:
                    record(conn, name, now + timedelta(seconds=1), outcomes, config, rng)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(50)
    assert not errors, errors[0]
