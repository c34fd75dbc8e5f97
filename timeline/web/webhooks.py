"""The `webhooks` section of the OpenAPI document (OpenAPI 3.1): what a subscriber receives, one
entry per notice type, with its payload schema and the Standard Webhooks signature headers.

Documentation only: these are requests the service makes, not routes it serves. The schemas list
the fields every notice of a type carries; receivers must ignore fields they do not know (new ones
may be added), and every notice carries `data.message`, the words for people.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Body, FastAPI, Header
from pydantic import BaseModel, ConfigDict, Field, create_model

from timeline.metrics import NOTICE_TYPES

SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
_HEADERS = {
    "webhook-id": (
        "The delivery's id, the same on every retry and redelivery: deduplicate on it (`msg_` and 32 hex digits)."
    ),
    "webhook-timestamp": (
        "When this attempt was signed, in Unix seconds: refuse stale ones (Standard Webhooks allows 5 minutes)."
    ),
    "webhook-signature": (
        "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the subscription's `whsec_` secret; during the 24 "
        "hours after a rotation, two signatures separated by a space. Verify with any Standard Webhooks library."
    ),
}


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Fact(BaseModel):
    label: str
    value: str


class MessageOut(BaseModel):
    """The notice in words for people: what Slack, Discord, the Atom feed, the page and the CLI show."""

    headline: str = Field(examples=["Iowa plant online slipped 90 days"])
    text: str = Field("", examples=["Moved from 2026-Q4 to 2027-Q1 (+90 days)."])
    facts: list[Fact] = Field(default_factory=list, max_length=6, description="At most six label/value pairs")
    link: str | None = Field(None, description="An http(s) URL: the milestone on the page, or the article")


class WindowOut(Open):
    text: str = Field(examples=["2025 → 2027"])
    opens_at: datetime
    due_at: datetime
    timezone: str | None = None


class MilestoneData(Open):
    milestone: str = Field(description="The milestone's id")
    title: str
    subject: str | None = None
    status: Literal["planned", "in_progress", "done", "cancelled"]
    tags: list[str]
    window: WindowOut
    days_until_due: int
    source: str | None = None
    summary: str = Field(description="One line for logs; show `message` to people")
    message: MessageOut


class StageData(MilestoneData):
    stage: str | None = Field(None, description="The reminder's lead time (`30d`) or the overdue repeat's number")


class RescheduledData(MilestoneData):
    previous_window: WindowOut
    slip_days: int = Field(description="Calendar days the due date moved in the milestone's zone; negative: earlier")
    direction: Literal["later", "earlier"]


class StatusChangedData(MilestoneData):
    previous_status: str


class FeedRef(BaseModel):
    id: str
    name: str
    url: str


class ItemMatchedData(Open):
    title: str = Field(description="The article's title")
    link: str | None = Field(description="The article")
    published: datetime | None
    summary: str | None
    feed: FeedRef
    rule: dict[str, Any] = Field(description="What matched: `any`, `all`, `regex` and `text`")
    milestones: list[str]
    update: bool = Field(description="True when the article was edited since it was first notified")
    message: MessageOut


class FeedFailingData(Open):
    title: str
    link: str
    feed: FeedRef
    failing_since: datetime
    error: str | None
    consecutive_failures: int
    message: MessageOut


class FeedRecoveredData(Open):
    title: str
    link: str
    feed: FeedRef
    failing_since: datetime
    failed_for_seconds: int
    message: MessageOut


class SubscriptionDisabledData(Open):
    subscription_id: str
    host: str | None = Field(description="The receiver's host only: a path may hold a token")
    reason: str
    title: str
    message: MessageOut


class TestPingData(Open):
    subscription_id: str
    title: str
    message: MessageOut | None = Field(None, description="Absent from test pings sent by older versions")


class SlipReportedData(MilestoneData):
    proposal: int = Field(description="The proposal's id: accept or reject it with `timeline proposals`")
    field: str = Field(description="Which date the article moves (the span's start or end, or the point)")
    current_window: dict[str, Any]
    proposed_window: dict[str, Any]
    slip_days: int
    direction: Literal["later", "earlier"]
    evidence: list[dict[str, Any]] = Field(description="The article(s) stating the other dates")


_DATA: dict[str, tuple[type[BaseModel], str]] = {
    "milestone.upcoming": (StageData, "A reminder a lead time (`remind`) before the window opens."),
    "milestone.window_opened": (StageData, "The window (a span's start window) opened."),
    "milestone.due": (StageData, "The (end) window ended and the milestone is neither done nor cancelled."),
    "milestone.overdue": (StageData, "`grace` after due, then every `repeat`, until done."),
    "milestone.rescheduled": (RescheduledData, "An edit moved the dates."),
    "milestone.status_changed": (StatusChangedData, "An edit changed the status."),
    "milestone.added": (MilestoneData, "A milestone was added."),
    "milestone.removed": (MilestoneData, "A milestone was removed (its history is kept)."),
    "milestone.slip_reported": (SlipReportedData, "A matched article states other dates for a milestone."),
    "feed.item_matched": (ItemMatchedData, "A watched feed published an article that matched."),
    "feed.failing": (FeedFailingData, "A feed has failed for TIMELINE_FEED_ALERT_AFTER."),
    "feed.recovered": (FeedRecoveredData, "A feed that was failing works again."),
    "subscription.disabled": (SubscriptionDisabledData, "A subscription was disabled (410, or failing too long)."),
    "test.ping": (TestPingData, "A test sent on request (`timeline subscriptions test`)."),
}


def _name(notice_type: str) -> str:
    return "".join(part.capitalize() for part in notice_type.replace(".", "_").split("_")) + "Notice"


def _payload(notice_type: str) -> type[BaseModel]:
    data, _ = _DATA.get(notice_type, (Open, ""))
    kind: Any = Literal[notice_type]
    model: type[BaseModel] = create_model(
        _name(notice_type),
        type=(kind, ...),
        timestamp=(datetime, Field(description="When the notice's event happened (UTC)")),
        data=(data, ...),
    )
    return model


def _receiver(model: type[BaseModel]) -> Any:
    """A function whose signature is what FastAPI documents: the body and the signature headers."""

    def receive(**_: Any) -> None:
        """Documentation only."""

    params = [inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[model, Body()])]
    params += [
        inspect.Parameter(
            name.replace("-", "_"),
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Annotated[str, Header(alias=name, description=_HEADERS[name])],
        )
        for name in SIGNATURE_HEADERS
    ]
    receive.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return receive


def install(app: FastAPI) -> None:
    """Add one webhook per notice type to `app`'s OpenAPI document."""
    for notice_type in NOTICE_TYPES:
        _, when = _DATA.get(notice_type, (Open, ""))
        app.webhooks.add_api_route(
            notice_type,
            _receiver(_payload(notice_type)),
            methods=["POST"],
            summary=f"{notice_type}: {when}",
            description=(
                f"{when} Sent to subscriptions whose events match `{notice_type}`. The body below is the "
                "`standard` format; `slack` and `discord` subscriptions get a chat message rendered from "
                "`data.message` instead. Answer 2xx; anything else is retried."
            ),
            tags=["webhooks"],
            operation_id=f"notice_{notice_type.replace('.', '_')}",
            responses={200: {"description": "Received (any 2xx)"}},
            status_code=200,
        )
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """The document, without the 422 FastAPI adds to every operation taking a body: a receiver's
        answers are its own."""
        if app.openapi_schema is None:
            for item in generate().get("webhooks", {}).values():
                item["post"]["responses"].pop("422", None)
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
