"""The proposals API: new dates for milestones read in matched news, accepted or rejected by a
person holding the write token."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field

from alerts.sqltypes import utcnow
from timeline.errors import NotFoundError
from timeline.proposals.decisions import MAX_REASON, accept, reject
from timeline.proposals.reads import get_proposal, list_proposals
from timeline.service import Service
from timeline.web.auth import Reader, Writer, service_of
from timeline.web.schemas import READ_ERRORS, error_responses

router = APIRouter(prefix="/api", tags=["proposals"])
ServiceDep = Annotated[Service, Depends(service_of)]
ProposalId = Annotated[int, Path(description="The proposal's number", ge=1, le=2**62)]


class ProposalWindow(BaseModel):
    text: str = Field(description="In milestones.yaml words: 2028-H1")
    start: str = Field(description="UTC instant the window starts (inclusive)")
    end: str = Field(description="UTC instant the window ends (exclusive)")


class ProposalEvidenceOut(BaseModel):
    phrase: str = Field(description="The date as the item writes it")
    sentence: str = Field(description="The sentence it was read in")
    stated_window: dict[str, str] = Field(description="The window the phrase names: start, end (UTC)")
    about: str = Field(description="start, end or unspecified: what the phrase says the date is of")
    language: str | None = Field(description="The language it was read in (fr, en, de, es)")
    title: str | None
    link: str | None
    published: str | None
    feed_id: str
    feed_name: str | None


class ProposalOut(BaseModel):
    id: int
    milestone: str
    milestone_title: str | None
    field: str = Field(description="The milestone's date it changes: when, starts or ends")
    current_window: ProposalWindow
    proposed_window: ProposalWindow
    slip_days: int = Field(description="Whole days the date moves; negative when earlier")
    direction: str = Field(description="later or earlier")
    status: str = Field(description="open, accepted or rejected")
    reason: str | None = Field(description="Why it was rejected, when said")
    created_at: str
    decided_at: str | None
    summary: str = Field(description="What would change, in words")
    evidence: list[ProposalEvidenceOut]


class RejectIn(BaseModel):
    reason: str | None = Field(None, max_length=MAX_REASON, description="Why, kept with the proposal")


@router.get(
    "/proposals",
    summary="Proposals: new dates read in matched news (open ones unless `status` says otherwise)",
    response_model=list[ProposalOut],
    responses=READ_ERRORS,
    dependencies=[Reader],
)
def proposals(
    service: ServiceDep,
    status: Annotated[
        Literal["open", "accepted", "rejected", "all"], Query(description="open (default), accepted, rejected or all")
    ] = "open",
) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        return list_proposals(conn, status=None if status == "all" else status)


@router.get(
    "/proposals/{proposal_id}",
    summary="One proposal with its evidence",
    response_model=ProposalOut,
    responses=error_responses(401, 404, 422),
    dependencies=[Reader],
)
def proposal(service: ServiceDep, proposal_id: ProposalId) -> dict[str, Any]:
    with service.engine.connect() as conn:
        found = get_proposal(conn, proposal_id)
    if found is None:
        raise NotFoundError(f"no proposal {proposal_id}")
    return found


@router.post(
    "/proposals/{proposal_id}/accept",
    summary="Accept: write the proposed date into the milestone (milestones.yaml or the API milestone)",
    response_model=ProposalOut,
    responses=error_responses(400, 401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def accept_proposal(service: ServiceDep, proposal_id: ProposalId) -> dict[str, Any]:
    return accept(service, proposal_id, utcnow()).proposal


@router.post(
    "/proposals/{proposal_id}/reject",
    summary="Reject: close the proposal, the milestone unchanged",
    response_model=ProposalOut,
    responses=error_responses(400, 401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def reject_proposal(
    service: ServiceDep, proposal_id: ProposalId, body: Annotated[RejectIn | None, Body()] = None
) -> dict[str, Any]:
    return reject(service, proposal_id, utcnow(), body.reason if body else None)
