"""Request and response models of the subscriptions and deliveries API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from timeline.config.subscriptions import Format
from timeline.web.schemas import StorableInput

DeliveryStatus = Literal["pending", "in_flight", "delivered", "dead", "cancelled", "silenced", "collected", "digested"]
Digest = Field(
    None,
    max_length=100,
    description="Send the notices as one message at this time: daily 09:00 Europe/Paris, weekly mon 09:00 ...",
)
Addresses = Field(None, max_length=50, description="Format email: the addresses to send to (instead of a url)")
Quiet = Field(
    None,
    max_length=100,
    description="Quiet hours: deliveries due between them wait until they end, e.g. 22:00-07:00 Europe/Paris",
)
EventPattern = Field(default_factory=lambda: ["*"], description="Glob patterns of notice types: milestone.*, *")

_SUBSCRIPTION_EXAMPLE: dict[str, Any] = {
    "id": "sub_3f9a1c2b4d5e6f70",
    "url": "https://hooks.example.com/timeline",
    "format": "standard",
    "description": "Team webhook",
    "events": ["milestone.*", "feed.item_matched"],
    "tags": ["anthropic"],
    "subjects": [],
    "origin": "api",
    "active": True,
    "disabled_reason": None,
    "disabled_at": None,
    "failing_since": None,
    "last_success_at": "2026-01-15T12:00:03Z",
    "concurrency": None,
    "timeout_seconds": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-01-15T11:00:00Z",
    "updated_at": "2026-01-15T11:00:00Z",
}


class SubscriptionIn(StorableInput):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/timeline",
                    "format": "standard",
                    "events": ["milestone.*"],
                    "tags": ["anthropic"],
                }
            ]
        },
    )

    url: str | None = Field(
        None,
        min_length=1,
        max_length=2000,
        description="http(s) target (private addresses are refused), or an Apprise URL for format apprise",
    )
    format: Format = "standard"
    to: list[str] | None = Addresses
    quiet: str | None = Quiet
    digest: str | None = Digest
    events: list[str] = EventPattern
    tags: list[str] = Field(default_factory=list, description="Only notices with one of these tags (empty: all)")
    subjects: list[str] = Field(default_factory=list, description="Only notices about one of these (empty: all)")
    description: str | None = Field(None, max_length=2000)
    concurrency: int | None = Field(None, ge=1, le=100, description="Requests in flight to this target")
    timeout_seconds: float | None = Field(None, gt=0, le=60, description="Timeout of one request")


class SubscriptionPatch(StorableInput):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"active": False}, {"events": ["milestone.due"]}]}
    )

    url: str | None = Field(None, min_length=1, max_length=2000)
    format: Format | None = None
    to: list[str] | None = Addresses
    quiet: str | None = Quiet
    digest: str | None = Digest
    events: list[str] | None = None
    tags: list[str] | None = None
    subjects: list[str] | None = None
    description: str | None = Field(None, max_length=2000)
    active: bool | None = Field(None, description="false disables it (pending deliveries are cancelled)")
    concurrency: int | None = Field(None, ge=1, le=100)
    timeout_seconds: float | None = Field(None, gt=0, le=60)


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SUBSCRIPTION_EXAMPLE]})

    id: str
    url: str
    format: str
    description: str | None
    events: list[str]
    tags: list[str]
    subjects: list[str]
    origin: Literal["config", "api"]
    active: bool
    disabled_reason: str | None
    disabled_at: str | None
    failing_since: str | None
    last_success_at: str | None = Field(
        description="The last delivered attempt, to within 30 s (a healthy subscription's row is rewritten at most "
        "that often; the first success after a failure is written at once)"
    )
    concurrency: int | None
    timeout_seconds: float | None
    previous_secret_expires_at: str | None
    created_at: str
    updated_at: str
    to: list[str] = Field(default_factory=list, description="Format email: its addresses")
    quiet: str | None = Field(None, description="Its quiet hours, if any")
    digest: str | None = Field(None, description="Its digest schedule, if any")


class SubscriptionWithSecret(SubscriptionOut):
    """Returned by creation and rotation only: the secret is never shown again."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [_SUBSCRIPTION_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]}
    )

    secret: str = Field(description="The Standard Webhooks signing secret (whsec_...)")


class PingOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ok": True, "webhook_id": "msg_2b3c", "status_code": 204, "latency_ms": 41.2, "error": None}]
        }
    )

    ok: bool = Field(description="The target answered 2xx")
    webhook_id: str
    status_code: int | None
    latency_ms: float
    error: str | None


class RecoverOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"queued": 12}]})

    queued: int = Field(description="Deliveries queued to be sent again")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "notice_id": 42,
                    "notice_key": "milestone.due:example-point:2026-10-01T00:00:00Z",
                    "notice_type": "milestone.due",
                    "subscription_id": "sub_3f9a1c2b4d5e6f70",
                    "webhook_id": "msg_2b3c",
                    "status": "dead",
                    "attempts": 8,
                    "next_attempt_at": None,
                    "last_status_code": 500,
                    "last_error": "HTTP 500",
                    "created_at": "2026-01-14T12:00:00Z",
                    "updated_at": "2026-01-15T12:00:00Z",
                    "delivered_at": None,
                }
            ]
        }
    )

    id: int
    notice_id: int
    notice_key: str
    notice_type: str
    subscription_id: str
    webhook_id: str = Field(description="The `webhook-id` header: the same on every retry")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    updated_at: str
    delivered_at: str | None


class AttemptOut(BaseModel):
    at: str
    status_code: int | None
    latency_ms: float
    response_excerpt: str | None
    error: str | None


class DeliveryDetailOut(DeliveryOut):
    payload: dict[str, Any] = Field(description="The notice's webhook body")
    attempt_log: list[AttemptOut] = Field(description="Every attempt, oldest first")


class DeliveryPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [], "next_cursor": None}]})

    items: list[DeliveryOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end")
