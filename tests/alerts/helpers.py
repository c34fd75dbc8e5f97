"""Builders shared by the alerts tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, select

from alerts.config import AlertsConfig
from alerts.notices import NewNotice, publish
from alerts.outbox import DELIVERIES
from alerts.subscriptions import WithSecret, create_subscription


def notice(
    key: str, at: datetime, kind: str = "milestone.due", *, tags: Sequence[str] = (), subjects: Sequence[str] = ()
) -> NewNotice:
    return NewNotice(
        type=kind,
        key=key,
        occurred_at=at,
        data={
            "title": f"Notice {key}: café",
            "window": {"start": "2026-01-01", "end": "2027-01-01"},
            "link": "https://example.org/x",
        },
        tags=tuple(tags),
        subjects=tuple(subjects),
    )


def publish_many(engine: Engine, notices: Sequence[NewNotice], now: datetime) -> None:
    with engine.begin() as conn:
        publish(conn, notices, now)


def subscribe(engine: Engine, config: AlertsConfig, now: datetime, url: str, **fields: object) -> WithSecret:
    with engine.begin() as conn:
        return create_subscription(conn, config, now, url=url, **fields)  # type: ignore[arg-type]


def statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {row.id: row.status for row in conn.execute(select(DELIVERIES.c.id, DELIVERIES.c.status))}
