"""A delivery pass asked to stop (the worker got SIGTERM) in the middle of a batch: it claims
nothing more, records what finishes in time and hands back the rest at once.

Found by the SIGTERM scenario (test_outages.py): the pass ignored the stop, the worker needed the
whole 10 s shutdown limit, and the outcomes of its last requests were never written ("cannot
schedule new futures after shutdown"): their rows stayed in flight until the lease ran out.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.notices import NewNotice, publish
from alerts.outbox import DELIVERIES
from alerts.sending import DeliveryStats, deliver_once
from alerts.subscriptions import create_subscription
from tests.reliability.conftest import Receiver, wait_for


@pytest.mark.timeout(30)
def test_a_stopped_pass_records_what_finished_and_releases_the_rest(sqlite_engine: Engine) -> None:
    receiver = Receiver()
    receiver.delay = 0.3
    receiver.start()
    try:
        config = AlertsConfig(allow_private=True, timeout=timedelta(seconds=3))
        now = datetime.now(UTC)
        notices = [NewNotice("test.ping", f"n{i}", now, {"n": i}) for i in range(40)]
        with sqlite_engine.begin() as conn:
            create_subscription(conn, config, now, url=receiver.url("/hook"), concurrency=2)
            publish(conn, notices, now)
        stop = threading.Event()
        stats: list[DeliveryStats] = []

        def deliver() -> None:
            stats.append(deliver_once(sqlite_engine, config, now, "w1", stop=stop))

        thread = threading.Thread(target=deliver)
        thread.start()
        wait_for(lambda: len(receiver.hits) >= 2, 10, "requests under way", every=0.02)
        stop.set()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        receiver.close()
    with sqlite_engine.connect() as conn:
        rows = conn.execute(select(DELIVERIES.c.status, DELIVERIES.c.attempts, DELIVERIES.c.claimed_by)).all()
    by_status = {status: [r for r in rows if r.status == status] for status in ("delivered", "pending", "in_flight")}
    assert by_status["in_flight"] == []
    assert len(by_status["delivered"]) == stats[0].delivered == len(receiver.accepted_ids()) >= 2
    # The rest are pending, due now, untried and unowned: any worker takes them at once.
    assert len(by_status["pending"]) == 40 - stats[0].delivered > 0
    assert all(r.attempts == 0 and r.claimed_by is None for r in by_status["pending"])
