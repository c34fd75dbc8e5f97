"""Tables of the alerts engine. `notices` is the inbox: one row per notice, unique by key, ever."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from alerts.sqltypes import UTCDateTime


class Notice(SQLModel, table=True):
    """Something worth telling subscribers. Created once, ever: `key` is unique in the database.

    `subjects` are opaque ids of what the notice concerns (a milestone id, say) for subscription
    filters, each also a row of `notice_subjects` for look-ups; `subject` is the first of them.
    `fanned_out_at` is set when the notice has been turned into one delivery per matching
    subscription.
    """

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_pending_fanout", "fanned_out_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(sa_column=Column(String(512), nullable=False, unique=True))
    type: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    subject: str | None = Field(default=None, sa_column=Column(String(200), index=True))
    subjects: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    fanned_out_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class NoticeSubject(SQLModel, table=True):
    """One of a notice's `subjects`, for look-ups by subject: "the notices about this milestone"
    finds a feed item that matched three milestones under each of them, through the primary key."""

    __tablename__ = "notice_subjects"

    subject: str = Field(sa_column=Column(String(200), primary_key=True))
    notice_id: int = Field(sa_column=Column(Integer, ForeignKey("notices.id"), primary_key=True))


class Subscription(SQLModel, table=True):
    """A webhook target and the notices it wants.

    `events` are glob patterns of notice types (`milestone.*`); `tags` and `subjects`, when not empty,
    keep only notices carrying at least one of them. `origin` is `config` (declared in a file, owned
    by it) or `api`. After a rotation `previous_secret` keeps signing until `previous_secret_expires_at`.
    `failing_since` is the first failure since the last success; a subscription failing for too long,
    or answered 410 Gone, is made inactive with `disabled_reason`. The `url` of an `email`
    subscription is `mailto:` and its addresses, comma-separated; of an `apprise` one, the Apprise URL.
    `quiet` (`22:00-07:00 Europe/Paris`) holds the hours its deliveries wait out, `digest`
    (`daily 09:00 Europe/Paris`) when its notices go as one message instead of one by one.
    """

    __tablename__ = "subscriptions"

    id: str = Field(sa_column=Column(String(200), primary_key=True))
    url: str = Field(sa_column=Column(Text, nullable=False))
    format: str = Field(default="standard", sa_column=Column(String(16), nullable=False))
    description: str | None = Field(default=None, sa_column=Column(Text))
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subjects: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret: str | None = Field(default=None, sa_column=Column(String(200)))
    previous_secret: str | None = Field(default=None, sa_column=Column(String(200)))
    previous_secret_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    origin: str = Field(default="api", sa_column=Column(String(16), nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, index=True))
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text))
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    failing_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_success_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    concurrency: int | None = Field(default=None, sa_column=Column(Integer))
    timeout_seconds: float | None = Field(default=None, sa_column=Column(Float))
    quiet: str | None = Field(default=None, sa_column=Column(String(100)))
    digest: str | None = Field(default=None, sa_column=Column(String(100)))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Delivery(SQLModel, table=True):
    """One notice to one subscription: the outbox row, written before any HTTP call.

    `webhook_id` is the Standard Webhooks `webhook-id`, the same on every retry and redelivery.
    `status`: pending → in_flight (claimed by `claimed_by` until `lease_until`) → delivered, or back
    to pending with a later `next_attempt_at`, or dead after the last retry; cancelled when its
    subscription is disabled or removed.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "subscription_id", name="uq_deliveries_notice_subscription"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_lease", "status", "lease_until"),
        Index("ix_deliveries_subscription", "subscription_id", "status", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(sa_column=Column(Integer, ForeignKey("notices.id"), nullable=False))
    subscription_id: str = Field(sa_column=Column(String(200), ForeignKey("subscriptions.id"), nullable=False))
    webhook_id: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    claimed_by: str | None = Field(default=None, sa_column=Column(String(200)))
    last_status_code: int | None = Field(default=None, sa_column=Column(Integer))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class DeliveryAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery: when, the answer (or the error), how long it took."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(sa_column=Column(Integer, ForeignKey("deliveries.id"), nullable=False, index=True))
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status_code: int | None = Field(default=None, sa_column=Column(Integer))
    latency_ms: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    response_excerpt: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    worker: str | None = Field(default=None, sa_column=Column(String(200)))


class Silence(SQLModel, table=True):
    """A mute, Alertmanager-style: notices about `subject` (or carrying `tag`) whose type matches the
    glob `types` are still created, but their deliveries are recorded as `silenced`, not sent, from
    `starts_at` until `ends_at`. Expiring a silence early sets `ends_at` to that instant and
    `expired_at`."""

    __tablename__ = "silences"

    id: str = Field(sa_column=Column(String(40), primary_key=True))
    subject: str | None = Field(default=None, sa_column=Column(String(200)))
    tag: str | None = Field(default=None, sa_column=Column(String(200)))
    types: str = Field(default="*", sa_column=Column(String(200), nullable=False))
    starts_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    expired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
