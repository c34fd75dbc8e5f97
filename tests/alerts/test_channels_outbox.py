"""Silences, quiet hours, digests, email and Apprise through the real outbox and delivery loop, on
SQLite and PostgreSQL; mail read back from a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import json
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.digest_store import publish_due_digests
from alerts.notices import NOTICES
from alerts.outbox import DELIVERIES, SUBSCRIPTIONS, claim, fan_out, record
from alerts.policy import AttemptResult
from alerts.sending import deliver_once
from alerts.silence_store import add_silence, expire_silence
from tests.alerts.helpers import notice, publish_many, subscribe
from tests.alerts.receiver import Receiver
from tests.alerts.smtpd import MailServer

PARIS = ZoneInfo("Europe/Paris")
NIGHT = datetime(2026, 6, 10, 23, 30, tzinfo=PARIS)  # inside 22:00-07:00 Paris
MORNING = datetime(2026, 6, 11, 7, 0, tzinfo=PARIS)
HOOK = "https://hooks.example.org/x"


def rows(engine: Engine) -> list[tuple[str, str, str, datetime | None, str | None]]:
    """(subscription, notice key, status, next attempt, note) of every delivery, in id order."""
    d, n = DELIVERIES.c, NOTICES.c
    query = (
        select(d.subscription_id, n.key, d.status, d.next_attempt_at, d.last_error)
        .join(NOTICES, n.id == d.notice_id)
        .order_by(d.id)
    )
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]  # type: ignore[misc]


def fan(engine: Engine, now: datetime) -> None:
    with engine.begin() as conn:
        fan_out(conn, now)


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def mail_config(config: AlertsConfig, smtp: MailServer) -> AlertsConfig:
    return dataclasses.replace(
        config, smtp_url=smtp.url, mail_from="alerts@timeline.example.org", public_url="https://timeline.example.org"
    )


def test_a_silenced_notice_is_recorded_not_sent_and_nothing_stale_follows(engine: Engine, config: AlertsConfig) -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    sub = subscribe(engine, config, now, HOOK).subscription.id
    with engine.begin() as conn:
        silence = add_silence(conn, now, subject="m1", until=now + timedelta(days=1), reason="renegotiated")
    publish_many(engine, [notice("due-m1", now, subjects=["m1"]), notice("due-m2", now, subjects=["m2"])], now)
    fan(engine, now)
    assert [(r[1], r[2]) for r in rows(engine)] == [("due-m1", "silenced"), ("due-m2", "pending")]
    assert rows(engine)[0][4] == f"silenced by {silence.id} until 2026-03-02 12:00 UTC: renegotiated"
    with engine.begin() as conn:
        assert [c.subscription_id for c in claim(conn, "w", now, 10, timedelta(minutes=5))] == [sub]
        expire_silence(conn, silence.id, now + timedelta(hours=1))
    later = now + timedelta(hours=2)
    publish_many(engine, [notice("overdue-m1", later, "milestone.overdue", subjects=["m1"])], later)
    fan(engine, later)
    assert [(r[1], r[2]) for r in rows(engine)] == [
        ("due-m1", "silenced"),
        ("due-m2", "in_flight"),
        ("overdue-m1", "pending"),
    ]


def test_quiet_hours_hold_new_deliveries_and_retries_until_they_end_in_order(
    engine: Engine, config: AlertsConfig
) -> None:
    quiet = subscribe(engine, config, NIGHT, HOOK, quiet="22:00-07:00 Europe/Paris").subscription.id
    loud = subscribe(engine, config, NIGHT, HOOK + "/loud").subscription.id
    publish_many(engine, [notice("due", NIGHT), notice("overdue", NIGHT, "milestone.overdue")], NIGHT)
    fan(engine, NIGHT)
    held = {(r[0], r[1]): (r[2], r[3]) for r in rows(engine)}
    assert held[(quiet, "due")] == held[(quiet, "overdue")] == ("pending", MORNING)
    assert held[(loud, "due")] == ("pending", NIGHT)
    with engine.begin() as conn:
        assert {c.subscription_id for c in claim(conn, "w", NIGHT, 10, timedelta(minutes=5))} == {loud}
        taken = claim(conn, "w", MORNING, 10, timedelta(minutes=5), reclaim=False)
    assert [(c.subscription_id, c.notice_type) for c in taken] == [
        (quiet, "milestone.due"),
        (quiet, "milestone.overdue"),
    ]
    # A retry that would come due at 22:00:05 waits for the morning too.
    evening = datetime(2026, 6, 11, 21, 59, 59, tzinfo=PARIS)
    with engine.begin() as conn:
        record(conn, "w", evening, [(taken[0], AttemptResult(503, 1.0))], config, random.Random(1))
    assert {r[1]: r[3] for r in rows(engine) if r[0] == quiet}["due"] == datetime(2026, 6, 12, 7, tzinfo=PARIS)


def test_a_digest_collects_then_goes_once_to_its_subscription_alone(engine: Engine, config: AlertsConfig) -> None:
    early = datetime(2026, 6, 10, 8, 0, tzinfo=PARIS)
    digest = subscribe(engine, config, early, HOOK, digest="daily 09:00 Europe/Paris").subscription.id
    other = subscribe(engine, config, early, HOOK + "/other").subscription.id
    publish_many(engine, [notice("a", early), notice("b", early, "milestone.overdue")], early)
    fan(engine, early)
    assert sorted((r[0] == digest, r[2]) for r in rows(engine)) == [
        (False, "pending"),
        (False, "pending"),
        (True, "collected"),
        (True, "collected"),
    ]
    with engine.begin() as conn:
        assert publish_due_digests(conn, early + timedelta(minutes=59)) == []
    nine = datetime(2026, 6, 10, 9, 0, tzinfo=PARIS)
    with engine.begin() as conn:
        assert publish_due_digests(conn, nine) == [f"digest:{digest}:2026-06-10T07:00:00Z"]
    with engine.begin() as conn:
        assert publish_due_digests(conn, nine + timedelta(minutes=5)) == []  # once per period
    fan(engine, nine)
    mine = [(r[1], r[2]) for r in rows(engine) if r[0] == digest]
    assert mine == [("a", "digested"), ("b", "digested"), (f"digest:{digest}:2026-06-10T07:00:00Z", "pending")]
    assert all(r[1] != f"digest:{digest}:2026-06-10T07:00:00Z" for r in rows(engine) if r[0] == other)
    with engine.connect() as conn:
        payload = conn.execute(select(NOTICES.c.payload).where(NOTICES.c.type == "digest")).scalar_one()
    assert payload["type"] == "digest"
    assert payload["data"]["count"] == 2
    assert [p["type"] for p in payload["data"]["notices"]] == ["milestone.due", "milestone.overdue"]
    assert payload["data"]["message"]["headline"] == "2 notices in your digest"


def test_workers_racing_at_the_digest_minute_make_one_digest(engine: Engine, config: AlertsConfig) -> None:
    early = datetime(2026, 6, 10, 8, 0, tzinfo=PARIS)
    subs = [subscribe(engine, config, early, HOOK + f"/{i}", digest="daily 09:00 Europe/Paris") for i in range(3)]
    publish_many(engine, [notice(f"n{i}", early) for i in range(5)], early)
    fan(engine, early)
    nine = datetime(2026, 6, 10, 9, 0, 1, tzinfo=PARIS)
    made: list[str] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        # As the delivery loop does: on SQLite the write lock is taken up front (BEGIN IMMEDIATE).
        with engine.execution_options(sqlite_immediate=True).begin() as conn:
            made.extend(publish_due_digests(conn, nine))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(made) == sorted(f"digest:{s.subscription.id}:2026-06-10T07:00:00Z" for s in subs)
    with engine.connect() as conn:
        assert conn.execute(select(NOTICES.c.key).where(NOTICES.c.type == "digest")).all().__len__() == 3
    assert {r[2] for r in rows(engine)} == {"digested"}


def test_a_crash_before_commit_leaves_the_digest_to_the_next_start(engine: Engine, config: AlertsConfig) -> None:
    early = datetime(2026, 6, 10, 8, 0, tzinfo=PARIS)
    sub = subscribe(engine, config, early, HOOK, digest="weekly wed 09:00 Europe/Paris").subscription.id
    publish_many(engine, [notice("a", early)], early)
    fan(engine, early)
    nine = datetime(2026, 6, 10, 9, 0, tzinfo=PARIS)
    with engine.connect() as conn, conn.begin() as transaction:
        assert publish_due_digests(conn, nine)
        transaction.rollback()  # the worker died before committing
    restarted = nine + timedelta(hours=30)  # down over the digest time, back the next day
    with engine.begin() as conn:
        assert publish_due_digests(conn, restarted) == [f"digest:{sub}:2026-06-10T07:00:00Z"]


def test_email_end_to_end_and_a_refused_address_disables(
    engine: Engine, config: AlertsConfig, smtp: MailServer
) -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    config = mail_config(config, smtp)
    ok = subscribe(engine, config, now, None, format="email", to=["ops@example.org"], events=["milestone.*"])
    ok = ok.subscription.id
    gone = subscribe(engine, config, now, None, format="email", to=["nobody@example.org"]).subscription.id
    publish_many(engine, [notice("due", now)], now)
    stats = deliver_once(engine, config, now, "w1")
    assert stats.delivered == 1
    (mail,) = smtp.received
    assert mail.recipients == ["ops@example.org"]
    assert mail.message["Subject"] == "Notice due: café"  # the headline: the notice's own title
    assert mail.message["List-Unsubscribe"].strip() == f"<https://timeline.example.org/api/subscriptions/{ok}>"
    webhook_id = next(r for r in _deliveries(engine) if r.subscription_id == ok).webhook_id
    assert mail.message["Message-ID"].strip() == f"<{webhook_id}@timeline.example.org>"
    with engine.connect() as conn:
        row = conn.execute(select(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == gone)).one()
    assert row.active is False
    assert "nobody@example.org (550 5.1.1 No such user here)" in row.disabled_reason


def test_apprise_end_to_end(engine: Engine, config: AlertsConfig, receiver: Receiver) -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    url = receiver.url("/apprise").replace("http://", "json://")
    subscribe(engine, config, now, url, format="apprise")
    publish_many(engine, [notice("due", now)], now)
    assert deliver_once(engine, config, now, "w1").delivered == 1
    (got,) = receiver.at("/apprise")
    assert json.loads(got.body)["title"] == "Notice due: café"


def test_an_email_digest_across_the_digest_time(engine: Engine, config: AlertsConfig, smtp: MailServer) -> None:
    config = mail_config(config, smtp)
    early = datetime(2026, 6, 10, 8, 0, tzinfo=PARIS)
    subscribe(engine, config, early, None, format="email", to=["ops@example.org"], digest="daily 09:00 Europe/Paris")
    publish_many(engine, [notice("a", early), notice("b", early, "milestone.overdue")], early)
    deliver_once(engine, config, early + timedelta(minutes=59), "w1")
    assert smtp.received == []
    deliver_once(engine, config, datetime(2026, 6, 10, 9, 0, 30, tzinfo=PARIS), "w1")
    deliver_once(engine, config, datetime(2026, 6, 10, 9, 5, tzinfo=PARIS), "w2")
    (mail,) = smtp.received
    assert mail.message["Subject"] == "2 notices in your digest"
    text = mail.message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    assert "Between 10 Jun 2026, 08:00 CEST and 10 Jun 2026, 09:00 CEST.\n" in text
    assert "\n- Notice a: café\n- Notice b: café\n" in text


def _deliveries(engine: Engine) -> list:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return list(conn.execute(select(DELIVERIES)))
