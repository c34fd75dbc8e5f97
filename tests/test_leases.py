"""One lease protocol, two kinds of leased work: deliveries (the outbox) and feed polls.

The contract, run on each kind and on SQLite and PostgreSQL:
- a claim leases due work to one worker: a second worker claiming at the same time gets none of it;
- a lease that runs out (its worker died) lets another worker claim the work;
- what the first worker then writes for it is refused: the new holder's claim stands;
- a holder that releases its claim makes the work claimable at once by another worker.
Both kinds pick with `alerts.claim_pick.picked` (FOR UPDATE SKIP LOCKED on PostgreSQL, the write
lock on SQLite) and guard every later write with the holder's identity (compare-and-set).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest
from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.outbox import DELIVERIES, claim, fan_out, record, release
from alerts.policy import AttemptResult
from tests.alerts.helpers import notice, publish_many, subscribe
from tests.feeds.builders import spec
from timeline.db import write_transaction
from timeline.feeds.store import FEEDS, LEASE, FeedRow, claim_due, release_claims, save_states, sync_feeds

T = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
DELIVERY_LEASE = timedelta(seconds=30)


class Leased(Protocol):
    lease: timedelta

    def make(self, engine: Engine, count: int) -> None: ...
    def claim(self, engine: Engine, worker: str, now: datetime) -> list[Any]: ...
    def finish(self, engine: Engine, worker: str, held: list[Any], now: datetime) -> None: ...
    def release(self, engine: Engine, worker: str, held: list[Any], now: datetime) -> int: ...
    def holders(self, engine: Engine) -> dict[Any, str | None]: ...
    def key(self, held: Any) -> Any: ...


class Deliveries:
    lease = DELIVERY_LEASE

    def make(self, engine: Engine, count: int) -> None:
        config = AlertsConfig(allow_private=True)
        subscribe(engine, config, T, "http://127.0.0.1:9/hook", concurrency=100)
        publish_many(engine, [notice(f"n{i}", T) for i in range(count)], T)
        with engine.begin() as conn:
            fan_out(conn, T)

    def claim(self, engine: Engine, worker: str, now: datetime) -> list[Any]:
        with write_transaction(engine) as conn:
            return claim(conn, worker, now, 100, self.lease)

    def finish(self, engine: Engine, worker: str, held: list[Any], now: datetime) -> None:
        ok = AttemptResult(200, 1.0)
        with write_transaction(engine) as conn:
            record(
                conn,
                worker,
                now,
                [(c, ok) for c in held],
                AlertsConfig(allow_private=True),
                __import__("random").Random(0),
            )

    def release(self, engine: Engine, worker: str, held: list[Any], now: datetime) -> int:
        with write_transaction(engine) as conn:
            return release(conn, worker, [c.id for c in held], now)

    def holders(self, engine: Engine) -> dict[Any, str | None]:
        d = DELIVERIES.c
        with engine.connect() as conn:
            return {
                row.id: (row.claimed_by if row.status == "in_flight" else f"<{row.status}>")
                for row in conn.execute(select(d.id, d.status, d.claimed_by))
            }

    def key(self, held: Any) -> Any:
        return held.id


class Feeds:
    lease = LEASE

    def make(self, engine: Engine, count: int) -> None:
        with engine.begin() as conn:
            sync_feeds(conn, [spec(f"f{i}", f"http://127.0.0.1:9/{i}") for i in range(count)], T)

    def claim(self, engine: Engine, worker: str, now: datetime) -> list[Any]:
        return claim_due(engine, now, limit=100)

    def finish(self, engine: Engine, worker: str, held: list[Any], now: datetime) -> None:
        with write_transaction(engine) as conn:
            save_states(
                conn,
                [
                    (f, replace(f.state, status="ok", last_polled_at=now, next_poll_at=now + timedelta(hours=1)), True)
                    for f in held
                ],
                now,
            )

    def release(self, engine: Engine, worker: str, held: list[FeedRow], now: datetime) -> int:
        return release_claims(engine, held, now)

    def holders(self, engine: Engine) -> dict[Any, str | None]:
        f = FEEDS.c
        with engine.connect() as conn:
            return {row.id: row.claim_token for row in conn.execute(select(f.id, f.claim_token))}

    def key(self, held: Any) -> Any:
        return held.id


@pytest.fixture(params=[Deliveries, Feeds], ids=["deliveries", "feeds"])
def kind(request: pytest.FixtureRequest) -> Leased:
    return request.param()  # type: ignore[no-any-return]


def test_a_claim_leases_the_work_to_one_worker(kind: Leased, engine: Engine) -> None:
    kind.make(engine, 5)
    first = kind.claim(engine, "w1", T)
    assert len(first) == 5
    assert kind.claim(engine, "w2", T + timedelta(seconds=1)) == [], "leased work is not claimed twice"


def test_an_expired_lease_passes_the_work_on_and_the_old_holder_cannot_write(kind: Leased, engine: Engine) -> None:
    kind.make(engine, 3)
    first = kind.claim(engine, "w1", T)
    later = T + kind.lease + timedelta(seconds=1)
    second = kind.claim(engine, "w2", later)
    assert sorted(kind.key(h) for h in second) == sorted(kind.key(h) for h in first)
    taken_over = kind.holders(engine)

    kind.finish(engine, "w1", first, later)  # the first worker comes back from the dead

    assert kind.holders(engine) == taken_over, "the new holder's claim stands"


def test_a_released_claim_is_claimable_at_once(kind: Leased, engine: Engine) -> None:
    kind.make(engine, 4)
    first = kind.claim(engine, "w1", T)
    assert kind.release(engine, "w1", first[:2], T) == 2
    again = kind.claim(engine, "w2", T)
    assert sorted(kind.key(h) for h in again) == sorted(kind.key(h) for h in first[:2])
