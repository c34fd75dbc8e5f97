"""Operations endpoints: /healthz (alive), /readyz (able to serve), /metrics (Prometheus)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from timeline import __version__
from timeline.metrics import Metrics
from timeline.service import Service
from timeline.web.auth import service_of
from timeline.web.schemas import Health, Readiness

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive", response_model=Health)
def healthz() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


def readiness(service: Service, scheduler: Any) -> dict[str, str]:
    """Each check: `ok`, or why it fails."""
    checks: dict[str, str] = {}
    try:
        with service.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    # A `web` process leaves applying the config to the worker: only a recorded error fails the check.
    error = service.config.error
    checks["config"] = f"not applied: {error}" if error is not None else "ok"
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
    summary="Ready to serve: database reachable, config applied, scheduler running and keeping up (when attached)",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready; each failing check says why"}},
)
def readyz(request: Request, service: Annotated[Service, Depends(service_of)]) -> JSONResponse:
    checks = readiness(service, request.app.state.scheduler)
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text exposition format"}},
)
def metrics(request: Request) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
