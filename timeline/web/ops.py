"""Operations endpoints: /healthz (alive), /readyz (able to do its work), /metrics (Prometheus).

/healthz is always open (a liveness probe needs no secret). /readyz and /metrics are reads: behind
TIMELINE_API_READ_TOKEN when one is set (as a header, or as `?token=` for probes that cannot send one).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client.exposition import choose_encoder

from timeline import __version__
from timeline.metrics import Metrics
from timeline.readiness import config_check, database_problem, is_ready
from timeline.service import Service
from timeline.web.auth import ExportReader, is_trusted_reader, service_of
from timeline.web.schemas import Health, Readiness, error_responses

router = APIRouter(tags=["operations"])
_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "Not ready; each failing check says why"}
}
_METRICS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/plain": {}, "application/openmetrics-text": {}},
        "description": "Prometheus text format, or OpenMetrics when the Accept header prefers it",
    }
}


@router.get("/healthz", summary="The process is alive", response_model=Health)
def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


def readiness(service: Service, scheduler: Any, *, detailed: bool) -> dict[str, str]:
    """Each check: `ok`, or why it fails (see `timeline.readiness`)."""
    checks = {"database": database_problem(service.engine) or "ok"}
    # A `web` process leaves applying the config to the worker: only a recorded error shows here.
    checks["config"] = config_check(service.config_status().problems, detailed=detailed)
    if scheduler is not None:
        stalls = scheduler.health()
        if not scheduler.running:
            checks["scheduler"] = "not running"
        elif stalls:
            checks["scheduler"] = "stalled: " + "; ".join(s.describe() for s in stalls)
        else:
            checks["scheduler"] = "ok"
    return checks


@router.get(
    "/readyz",
    summary="Ready to work: database reachable, scheduler running and keeping up (when attached); a config "
    "that failed to apply is reported, while the last good one serves",
    response_model=Readiness,
    responses=_NOT_READY | error_responses(401, 422),
    dependencies=[ExportReader],
)
def readyz(request: Request, service: Annotated[Service, Depends(service_of)]) -> JSONResponse:
    checks = readiness(service, request.app.state.scheduler, detailed=is_trusted_reader(request))
    ready = is_ready(checks)
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics (OpenMetrics when the scraper asks for it)",
    response_class=Response,
    responses=_METRICS | error_responses(401, 422, json_route=False),
    dependencies=[ExportReader],
)
def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    encode, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(registry.registry), headers={"Content-Type": content_type})
