"""Request and response models of the JSON API: the OpenAPI contract, with examples."""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from timeline.config.milestones import Status

DATE_TEXT = "2025, 2025-H2, 2025-Q3, 2025-09, 2025-09-15 or an ISO datetime with offset"
_DURATION = r"\s*\d{1,6}\s*[smhdw]\s*"
DURATION_PATTERN = f"^{_DURATION}$"
DateText = Annotated[str, Field(max_length=64, examples=["2026-Q3"])] | int
DurationText = Annotated[str, Field(pattern=DURATION_PATTERN, examples=["30d"])]
RepeatText = Annotated[str, Field(pattern=f"^(never|{_DURATION})$", examples=["30d", "never"])]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
MAX_ATTRIBUTES_BYTES = 16_384
"""The most `attributes` may hold, as compact JSON."""
MAX_ATTRIBUTES_DEPTH = 8
"""The deepest `attributes` may nest (the object itself is level 1)."""


def _problem(value: Any) -> str | None:
    """Why a JSON value cannot be stored: control characters (NUL above all), lone surrogates (half
    a UTF-16 pair: not text any database stores) or non-finite numbers. Never raises."""
    if isinstance(value, str):
        if _CONTROL.search(value):
            return "control characters (such as NUL) are not allowed"
        if _SURROGATE.search(value):
            return "lone surrogates (\\ud800-\\udfff escapes not forming a pair) are not text; send UTF-8 text"
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite"
    if isinstance(value, dict):
        return next((p for p in map(_problem, [*value.keys(), *value.values()]) if p), None)
    if isinstance(value, list):
        return next((p for p in map(_problem, value) if p), None)
    return None


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def attributes_problem(value: Any) -> str | None:
    """Why `attributes` are refused: nested deeper than `MAX_ATTRIBUTES_DEPTH` or larger than
    `MAX_ATTRIBUTES_BYTES` as JSON; None when they fit. Never raises (the body's own nesting is
    bounded before parsing, by `timeline.web.edges`)."""
    if not isinstance(value, dict):
        return None
    depth = _depth(value)
    if depth > MAX_ATTRIBUTES_DEPTH:
        return f"nested {depth} deep; at most {MAX_ATTRIBUTES_DEPTH} levels of objects and arrays"
    try:
        size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError):
        return "not JSON"
    if size > MAX_ATTRIBUTES_BYTES:
        return f"{size:,} bytes as JSON; at most {MAX_ATTRIBUTES_BYTES:,}"
    return None


class StorableInput(BaseModel):
    """A request body: unknown fields refused, nothing a database cannot store, and `attributes`
    within their limits."""

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        problem = _problem(value) or (attributes_problem(value) if info.field_name == "attributes" else None)
        if problem:
            raise ValueError(problem)
        return value


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable: bad_request, unauthorized, forbidden, not_found, ...")
    message: str = Field(description="What went wrong and what to do about it")
    field: str | None = Field(None, description="The request field at fault, when one is")


class ErrorBody(BaseModel):
    """Every error answer has this shape."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"error": {"code": "invalid", "message": "'2025-13' is not a date", "field": "when"}}]
        }
    )

    error: ErrorDetail


def error_responses(*statuses: int, json_route: bool = True) -> dict[int | str, dict[str, Any]]:
    """The documented error answers; `json_route=False` for routes whose success is not JSON (their
    errors are JSON all the same). A write (a route that documents 403) may also answer 413."""
    if 403 in statuses and 413 not in statuses:
        statuses = tuple(sorted((*statuses, 413)))
    descriptions = {
        400: "Bad request",
        401: "Missing or wrong bearer token",
        403: "Writes are disabled (no TIMELINE_API_TOKEN configured)",
        404: "Not found",
        409: "Conflict with the current state (e.g. a milestone owned by the config file)",
        413: "The request body is larger than the API accepts (1 MiB)",
        422: "Invalid input; `field` names it",
    }
    if json_route:
        return {status: {"model": ErrorBody, "description": descriptions[status]} for status in statuses}
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {status: {"content": content, "description": descriptions[status]} for status in statuses}


READ_ERRORS = error_responses(401, 422)
WRITE_ERRORS = error_responses(401, 403, 422)


class WindowPart(BaseModel):
    text: str = Field(description="As written: 2025-Q3")
    start: str = Field(description="UTC instant the window starts (inclusive)")
    end: str = Field(description="UTC instant the window ends (exclusive)")
    precision: str = Field(description="year, half, quarter, month, day, minute or second")


class WindowOut(BaseModel):
    text: str = Field(description="`2025-Q3`, or `2025 → 2027` for a span")
    opens: WindowPart
    closes: WindowPart


_MILESTONE_EXAMPLE: dict[str, Any] = {
    "id": "anthropic-us-construction",
    "title": "Construction of Anthropic's US data centres",
    "subject": "Anthropic",
    "kind": "span",
    "status": "in_progress",
    "tags": ["anthropic", "datacenter", "us"],
    "timezone": "UTC",
    "window": {
        "text": "2025 → 2027",
        "opens": {"text": "2025", "start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z", "precision": "year"},
        "closes": {"text": "2027", "start": "2027-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z", "precision": "year"},
    },
    "opens_at": "2025-01-01T00:00:00Z",
    "due_at": "2028-01-01T00:00:00Z",
    "days_until_due": 760,
    "source": "https://example.org/article",
    "notes": None,
    "attributes": {"investment_usd": 50000000000},
    "origin": "config",
    "revision": 1,
    "archived": False,
}


class MilestoneOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_MILESTONE_EXAMPLE]})

    id: str
    title: str
    subject: str | None
    kind: Literal["point", "span"]
    status: Status
    tags: list[str]
    timezone: str
    window: WindowOut
    opens_at: str
    due_at: str = Field(description="When it is due: the end of its (last) window")
    days_until_due: int = Field(description="Whole days until due; negative when past")
    source: str | None
    notes: str | None
    attributes: dict[str, Any]
    origin: Literal["config", "api"] = Field(description="`config`: owned by milestones.yaml, read-only here")
    revision: int = Field(description="Raised each time the milestone is rescheduled")
    archived: bool


class ChangeOut(BaseModel):
    id: int
    kind: str = Field(description="added, removed, rescheduled, status_changed or edited")
    at: str
    slip_days: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class NoticeOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "key": "milestone.due:example-point:2026-10-01T00:00:00Z",
                    "type": "milestone.due",
                    "subjects": ["example-point"],
                    "occurred_at": "2026-10-01T00:00:00Z",
                    "created_at": "2026-10-01T00:00:07Z",
                    "payload": {"type": "milestone.due", "timestamp": "2026-10-01T00:00:00Z", "data": {}},
                }
            ]
        }
    )

    id: int
    key: str = Field(description="Deterministic and unique: a notice is created once, ever")
    type: str
    subjects: list[str]
    occurred_at: str
    created_at: str
    payload: dict[str, Any] = Field(description="The webhook body: {type, timestamp, data}")


class EvidenceOut(BaseModel):
    """A feed item matched to a milestone."""

    feed: str = Field(description="The feed's name")
    feed_id: str
    milestone_id: str
    title: str | None
    link: str | None
    published: str | None
    summary: str | None
    rule: dict[str, Any] = Field(description="Why it matched")
    matched_at: str


class MilestoneDetail(MilestoneOut):
    changes: list[ChangeOut] = Field(description="Change history, oldest first")
    notices: list[NoticeOut] = Field(description="The 50 latest notices about this milestone, newest first")
    evidence: list[EvidenceOut] = Field(
        description="The 20 newest feed items matched to this milestone (GET /api/milestones/{id}/evidence: all)"
    )
    evidence_total: int = Field(description="How many feed items are matched to this milestone in all")


class EvidencePageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [], "total": 0, "next_offset": None}]})

    items: list[EvidenceOut] = Field(description="Newest first")
    total: int = Field(description="How many there are in all")
    next_offset: int | None = Field(description="Pass as `offset` for the next (older) page; null at the end")


class NoticePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [], "next_cursor": None}]},
    )

    items: list[NoticeOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null at the end")


class TimelineEntry(BaseModel):
    kind: Literal["milestone", "feed_item"]
    at: str = Field(description="Where the entry sits on the timeline (a window start, or a publication time)")
    until: str | None = Field(None, description="For a milestone, when it is due")
    window: WindowOut | None = None
    milestone: MilestoneOut | None = None
    item: EvidenceOut | None = None
    milestones: list[str] = Field(default_factory=list, description="For a feed item, the milestones it concerns")


class TimelineOut(BaseModel):
    now: str
    entries: list[TimelineEntry]


class FeedOut(BaseModel):
    """A feed and its polling health."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "dc-news",
                    "name": "Data centre news",
                    "url": "https://example.org/feed.xml",
                    "active": True,
                    "status": "error",
                    "consecutive_failures": 3,
                    "last_success_at": "2026-01-14T08:00:00Z",
                    "last_polled_at": "2026-01-15T11:45:00Z",
                    "next_poll_at": "2026-01-15T12:45:00Z",
                    "last_error": "HTTP 503",
                    "failing_since": "2026-01-15T10:00:00Z",
                    "entries": 120,
                }
            ]
        }
    )

    id: str
    name: str
    url: str
    active: bool
    status: str = Field(description="new (never polled), ok, not_modified or error")
    consecutive_failures: int
    last_success_at: str | None
    last_polled_at: str | None
    next_poll_at: str | None
    last_error: str | None
    failing_since: str | None
    entries: int = Field(description="Entries seen so far")


class MilestoneIn(StorableInput):
    """A milestone created through the API: the same fields as an entry of `milestones.yaml`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "google-iowa-expansion",
                    "title": "Google's Iowa data centre expansion",
                    "subject": "Google",
                    "when": "2026-H2",
                    "tags": ["google", "datacenter"],
                    "remind": ["30d", "7d"],
                }
            ]
        },
    )

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,199}$", description="Stable key; never reused")
    title: str = Field(min_length=1)
    subject: str | None = Field(None, max_length=200)
    when: DateText | None = Field(None, description=f"A point: {DATE_TEXT}")
    starts: DateText | None = Field(None, description="A span's start (with `ends`)")
    ends: DateText | None = Field(None, description="A span's end: it is due at the end of this window")
    timezone: str | None = Field(None, max_length=64, description="IANA zone of the dates; default from the config")
    status: Status = "planned"
    tags: list[str] = Field(default_factory=list)
    source: str | None = None
    notes: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    remind: list[DurationText] | None = Field(None, description="Lead times like 90d, 7d; default from the config")
    grace: DurationText | None = Field(None, description="Due → overdue after this long")
    repeat: RepeatText | None = Field(None, description="Repeat overdue notices this often, or `never`")


class MilestonePatch(StorableInput):
    """The fields to change; a field given as null goes back to its default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"when": "2027-Q1"}, {"status": "done"}]},
    )

    title: str | None = Field(None, min_length=1)
    subject: str | None = Field(None, max_length=200)
    when: DateText | None = None
    starts: DateText | None = None
    ends: DateText | None = None
    timezone: str | None = Field(None, max_length=64)
    status: Status | None = None
    tags: list[str] | None = None
    source: str | None = None
    notes: str | None = None
    attributes: dict[str, Any] | None = None
    remind: list[DurationText] | None = None
    grace: DurationText | None = None
    repeat: RepeatText | None = None


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"ready": False, "checks": {"database": "ok", "config": "config/milestones.yaml:4: when: ..."}},
            ]
        }
    )

    ready: bool
    checks: dict[str, str] = Field(description="Each check: `ok`, or why it fails")
