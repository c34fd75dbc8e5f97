"""GET /api/feeds: the watched feeds and their health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from timeline.service import Service
from timeline.web.auth import Reader, service_of
from timeline.web.schemas import READ_ERRORS, FeedOut
from timeline.web.sources import feeds_health

router = APIRouter(prefix="/api", tags=["feeds"])


@router.get(
    "/feeds",
    summary="Watched feeds and their health (last poll, result, error, next poll)",
    response_model=list[FeedOut],
    responses=READ_ERRORS,
    dependencies=[Reader],
)
def feeds(
    service: Annotated[Service, Depends(service_of)],
    include_inactive: Annotated[bool, Query(description="Include feeds removed from feeds.yaml")] = False,
) -> list[dict[str, Any]]:
    with service.engine.connect() as conn:
        return feeds_health(conn, include_inactive=include_inactive)
