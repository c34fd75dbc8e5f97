"""The FastAPI application, built by `create_app(settings)`: nothing is created at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from timeline import __version__
from timeline.scheduler import Scheduler
from timeline.service import Service
from timeline.settings import Settings


def create_app(settings: Settings, *, service: Service | None = None, scheduler: Scheduler | None = None) -> FastAPI:
    service = service or Service(settings)
    app = FastAPI(title="timeline-alerts", version=__version__, description="Dated milestones and their notices.")
    app.state.service = service
    app.state.scheduler = scheduler

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    return app
