"""The milestones API: list, read (with history, notices and evidence), create, edit, remove; the
timeline of milestones and matched feed items; notices with cursor pagination."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from sqlalchemy import Connection

from timeline.clock import utcnow
from timeline.config.milestones import Status
from timeline.dates import parse_window, utc_text
from timeline.editing import config_defaults, create_milestone, delete_milestone, update_milestone
from timeline.errors import NotFoundError
from timeline.service import Service
from timeline.store import milestone_row, milestone_rows
from timeline.views import evidence_page, list_notices, milestone_detail, milestone_view, newest_evidence
from timeline.web.auth import ExportReader, Reader, Writer, service_of
from timeline.web.errors import ApiError
from timeline.web.links import link
from timeline.web.paging import Cursor, PageSize, before_id, cursor_page
from timeline.web.schemas import (
    DATE_TEXT,
    READ_ERRORS,
    EvidencePageOut,
    MilestoneDetail,
    MilestoneIn,
    MilestoneOut,
    MilestonePatch,
    NoticePage,
    TimelineOut,
    error_responses,
)

router = APIRouter(prefix="/api")
ServiceDep = Annotated[Service, Depends(service_of)]
MilestoneId = Annotated[str, Path(description="The milestone's id", max_length=200, examples=["example-point"])]
EVIDENCE_IN_DETAIL = 20
"""The newest pieces of evidence shown with a milestone; `GET /api/milestones/{id}/evidence` pages the rest."""


def date_bound(value: str | None, field: str, *, end: bool) -> datetime | None:
    """`from`/`to` in any date form; `from` is the start of its window, `to` the end of its own."""
    if value is None:
        return None
    try:
        window = parse_window(value)
    except (ValueError, OverflowError):
        raise ApiError(422, f"{value!r} is not a date; use {DATE_TEXT}", field=field) from None
    return window.end if end else window.start


From = Annotated[str | None, Query(alias="from", description=f"Milestones still open after this ({DATE_TEXT})")]
To = Annotated[str | None, Query(description=f"Milestones opening before the end of this ({DATE_TEXT})")]


@router.get(
    "/milestones",
    tags=["milestones"],
    summary="List milestones",
    response_model=list[MilestoneOut],
    responses=READ_ERRORS,
    dependencies=[Reader],
)
def list_milestones(
    service: ServiceDep,
    tag: Annotated[str | None, Query(description="Only milestones with this tag")] = None,
    status: Annotated[Status | None, Query(description="Only milestones in this status")] = None,
    subject: Annotated[str | None, Query(description="Only milestones about this subject")] = None,
    from_: From = None,
    to: To = None,
    include_archived: Annotated[bool, Query(description="Include milestones removed from the config")] = False,
) -> list[dict[str, Any]]:
    start, end = date_bound(from_, "from", end=False), date_bound(to, "to", end=True)
    now = utcnow()
    with service.engine.connect() as conn:
        rows = milestone_rows(
            conn, tag=tag, status=status, subject=subject, start=start, end=end, include_archived=include_archived
        )
    return [milestone_view(row, now) for row in rows]


def _get_row(conn: Connection, milestone_id: str) -> Any:
    row = milestone_row(conn, milestone_id)
    if row is None:
        raise NotFoundError(f"no milestone {milestone_id!r}")
    return row


@router.get(
    "/milestones/{milestone_id}",
    tags=["milestones"],
    summary="One milestone, with its change history, notices and feed evidence",
    response_model=MilestoneDetail,
    responses=error_responses(401, 404, 422),
    dependencies=[Reader],
)
def get_milestone(service: ServiceDep, milestone_id: MilestoneId) -> dict[str, Any]:
    with service.engine.connect() as conn:
        return milestone_detail(conn, _get_row(conn, milestone_id), utcnow(), evidence_limit=EVIDENCE_IN_DETAIL)


@router.get(
    "/milestones/{milestone_id}/evidence",
    tags=["milestones"],
    summary="A milestone's feed evidence, newest first, a page at a time",
    response_model=EvidencePageOut,
    responses=error_responses(401, 404, 422),
    dependencies=[ExportReader],
)
def milestone_evidence(
    service: ServiceDep,
    milestone_id: MilestoneId,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="How many of the newest to skip")] = 0,
) -> dict[str, Any]:
    with service.engine.connect() as conn:
        _get_row(conn, milestone_id)
        page = evidence_page(conn, milestone_id, limit=limit, offset=offset)
    more = offset + len(page.items) < page.total
    return {"items": page.items, "total": page.total, "next_offset": offset + len(page.items) if more else None}


def _write_options(service: Service) -> dict[str, Any]:
    path = service.settings.milestones_file
    return {"defaults": config_defaults(path), "config_file": path, "base_url": service.settings.base_url}


@router.post(
    "/milestones",
    tags=["milestones"],
    summary="Create a milestone (owned by the API, not by the config file)",
    status_code=201,
    response_model=MilestoneOut,
    responses=error_responses(400, 401, 403, 409, 422),
    dependencies=[Writer],
)
def post_milestone(service: ServiceDep, body: MilestoneIn, response: Response) -> dict[str, Any]:
    now = utcnow()
    row = create_milestone(service.engine, body.model_dump(exclude_unset=True), now, **_write_options(service))
    response.headers["Location"] = link(service.settings, f"api/milestones/{quote(row.id, safe='')}")
    return milestone_view(row, now)


@router.patch(
    "/milestones/{milestone_id}",
    tags=["milestones"],
    summary="Change an API-created milestone (config-owned ones answer 409 naming the file)",
    response_model=MilestoneOut,
    responses=error_responses(400, 401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def patch_milestone(
    service: ServiceDep, milestone_id: MilestoneId, body: Annotated[MilestonePatch, Body()]
) -> dict[str, Any]:
    now = utcnow()
    patch = body.model_dump(exclude_unset=True)
    row = update_milestone(service.engine, milestone_id, patch, now, **_write_options(service))
    return milestone_view(row, now)


@router.delete(
    "/milestones/{milestone_id}",
    tags=["milestones"],
    summary="Remove an API-created milestone (archived: its history and notices stay)",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 409, 422),
    dependencies=[Writer],
)
def remove_milestone(service: ServiceDep, milestone_id: MilestoneId) -> Response:
    delete_milestone(
        service.engine,
        milestone_id,
        utcnow(),
        config_file=service.settings.milestones_file,
        base_url=service.settings.base_url,
    )
    return Response(status_code=204)


@router.get(
    "/timeline",
    tags=["milestones"],
    summary="Milestones and matched feed items in time order, with their windows",
    response_model=TimelineOut,
    responses=READ_ERRORS,
    dependencies=[Reader],
)
def timeline(
    service: ServiceDep,
    tag: Annotated[str | None, Query(description="Only milestones with this tag")] = None,
    from_: From = None,
    to: To = None,
    items_per_milestone: Annotated[
        int, Query(ge=0, le=100, description="The newest matched feed items shown per milestone")
    ] = 20,
) -> dict[str, Any]:
    start, end = date_bound(from_, "from", end=False), date_bound(to, "to", end=True)
    now = utcnow()
    entries: list[dict[str, Any]] = []
    with service.engine.connect() as conn:
        rows = milestone_rows(conn, tag=tag, start=start, end=end)
        newest = newest_evidence(conn, [r.id for r in rows], per_milestone=items_per_milestone)
    evidence = {milestone_id: page.items for milestone_id, page in newest.items()}
    for row in rows:
        view = milestone_view(row, now)
        entries.append(
            {"kind": "milestone", "at": view["opens_at"], "until": view["due_at"], "window": view["window"]}
            | {"milestone": view, "milestones": [row.id]}
        )
    items: dict[tuple[Any, ...], dict[str, Any]] = {}
    for milestone_id, found in evidence.items():
        for item in found:
            key = (item["feed_id"], item["link"], item["title"])
            at = item["published"] or item["matched_at"]
            entry = items.setdefault(key, {"kind": "feed_item", "at": at, "item": item, "milestones": []})
            entry["milestones"].append(milestone_id)
    entries.extend(items.values())
    entries.sort(key=lambda e: (e["at"], e["kind"]))
    return {"now": utc_text(now), "entries": entries}


@router.get(
    "/notices",
    tags=["notices"],
    summary="Notices, newest first, with cursor pagination",
    response_model=NoticePage,
    responses=error_responses(400, 401, 422),
    dependencies=[Reader],
)
def notices(
    service: ServiceDep,
    type: Annotated[str | None, Query(description="Only this type, e.g. milestone.due")] = None,
    since: Annotated[str | None, Query(description=f"Only notices created since then ({DATE_TEXT})")] = None,
    milestone: Annotated[str | None, Query(description="Only notices about this milestone")] = None,
    cursor: Cursor = None,
    limit: PageSize = 100,
) -> dict[str, Any]:
    below = before_id(cursor)
    with service.engine.connect() as conn:
        items = list_notices(
            conn,
            type_=type,
            since=date_bound(since, "since", end=False),
            subject=milestone,
            before_id=below,
            limit=limit + 1,
        )
    return cursor_page(items, limit)
