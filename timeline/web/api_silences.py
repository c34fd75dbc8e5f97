"""Silences: thin wrappers over `alerts.silences`. Reading is a read, adding and expiring are writes."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import ConfigDict, Field

from alerts import silence_store, silences
from timeline.clock import utcnow
from timeline.dates import utc_text as iso
from timeline.db import write_transaction
from timeline.service import Service
from timeline.web.api_milestones import date_bound
from timeline.web.auth import Reader, Writer, service_of
from timeline.web.links import link
from timeline.web.schemas import DATE_TEXT, StorableInput, error_responses

router = APIRouter(prefix="/api")
ServiceDep = Annotated[Service, Depends(service_of)]
SilenceId = Annotated[str, Path(max_length=40, description="The silence's id")]


class SilenceIn(StorableInput):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"milestone": "anthropic-us-construction", "until": "2026-04-01", "reason": "being renegotiated"}
            ]
        },
    )

    milestone: str | None = Field(None, max_length=200, description="Mute the notices about this milestone (id)")
    tag: str | None = Field(None, max_length=200, description="Mute the notices carrying this tag")
    type: str | None = Field(None, max_length=200, description="Only notices of these types, a glob (default *)")
    until: str = Field(max_length=64, description=f"When it ends: {DATE_TEXT} (a date is its first instant, UTC)")
    reason: str = Field(max_length=2000, description="Why, for the people who will wonder")


class SilenceOut(StorableInput):
    id: str
    subject: str | None = Field(description="The milestone it mutes, or null")
    tag: str | None
    types: str = Field(description="The glob of notice types it mutes")
    starts_at: str
    ends_at: str
    reason: str
    created_at: str
    expired_at: str | None = Field(description="When it was ended early, or null")


def _out(silence: silences.Silence) -> dict[str, Any]:
    return {
        "id": silence.id,
        "subject": silence.subject,
        "tag": silence.tag,
        "types": silence.types,
        "starts_at": iso(silence.starts_at),
        "ends_at": iso(silence.ends_at),
        "reason": silence.reason,
        "created_at": iso(silence.created_at),
        "expired_at": iso(silence.expired_at) if silence.expired_at else None,
    }


@router.get(
    "/silences",
    tags=["silences"],
    summary="The silences holding now (all=true: those that ended too), ending first first",
    response_model=list[SilenceOut],
    responses=error_responses(401, 422),
    dependencies=[Reader],
)
def list_silences(
    service: ServiceDep,
    all_: Annotated[bool, Query(alias="all", description="Include the silences that have ended")] = False,
) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        return [_out(s) for s in silence_store.list_silences(conn, utcnow(), ended=all_)]


@router.post(
    "/silences",
    tags=["silences"],
    summary="Mute a milestone's or a tag's notices until a date: they are recorded, not sent",
    status_code=201,
    response_model=SilenceOut,
    responses=error_responses(400, 401, 403, 422),
    dependencies=[Writer],
)
def add_silence(service: ServiceDep, body: SilenceIn, response: Response) -> dict[str, Any]:
    until = date_bound(body.until, "until", end=False)
    assert until is not None  # `until` is required by the body's schema
    with write_transaction(service.engine) as conn:
        made = silence_store.add_silence(
            conn, utcnow(), until=until, reason=body.reason, subject=body.milestone, tag=body.tag, types=body.type
        )
    response.headers["Location"] = link(service.settings, f"api/silences/{quote(made.id, safe='')}")
    return _out(made)


@router.delete(
    "/silences/{silence_id}",
    tags=["silences"],
    summary="End a silence now (what it muted stays unsent); the silence as it ended",
    response_model=SilenceOut,
    responses=error_responses(401, 403, 404, 422),
    dependencies=[Writer],
)
def expire_silence(service: ServiceDep, silence_id: SilenceId) -> dict[str, Any]:
    with write_transaction(service.engine) as conn:
        return _out(silence_store.expire_silence(conn, silence_id, utcnow()))
