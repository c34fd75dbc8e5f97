"""GET /: the timeline as a page, rendered on the server (Jinja2 and CSS, no script, no external
asset). What it shows is decided in `timeline.web.page_layout`; this module gathers the data.

Beside the timeline: the open proposals (new dates read in the news, with their evidence), the
recent notices, the feeds that are failing, the silences holding, and a banner when the config on
disk failed to apply (where it is broken; the messages too for a reader holding a token). A page
opened with the read token as `?token=` carries it into its links (the calendar, the notices feed,
the API docs, the evidence pages), which would answer 401 without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from alerts.silence_store import list_silences
from timeline.clock import utcnow
from timeline.config.milestones import STATUSES
from timeline.feeds.health import feed_health
from timeline.humanize import plural
from timeline.proposals.reads import list_proposals, page_proposals
from timeline.readiness import problem_lines
from timeline.service import Service
from timeline.store import changes_of, milestone_rows, to_def
from timeline.views import newest_evidence, notice_rows
from timeline.web.auth import ExportReader, is_trusted_reader, page_token, service_of
from timeline.web.page_layout import feeds_panel, layout, notice_lines, silence_lines
from timeline.web.schemas import error_responses

router = APIRouter(tags=["page"])
TEMPLATES = Path(__file__).parent / "templates"
EVIDENCE_ON_PAGE = 3
"""The newest matched items shown under a milestone; the rest are a link away (its evidence pages)."""
NOTICES_ON_PAGE = 12
PROPOSALS_ON_PAGE = 10
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


@router.get(
    "/",
    summary="The timeline as a page",
    response_class=HTMLResponse,
    responses=error_responses(401, 422, json_route=False),
    dependencies=[ExportReader],
)
def page(request: Request, service: Annotated[Service, Depends(service_of)]) -> HTMLResponse:
    now = utcnow()
    with service.engine.connect() as conn:
        defs = [to_def(row) for row in milestone_rows(conn)]
        ids = [m.id for m in defs]
        newest = newest_evidence(conn, ids, per_milestone=EVIDENCE_ON_PAGE)
        history: dict[str, list[object]] = {}
        for change in changes_of(conn, ids):
            history.setdefault(change.milestone_id, []).append(change)
        notices = notice_rows(conn, limit=NOTICES_ON_PAGE)
        feeds = feeds_panel(feed_health(conn))
        proposals = page_proposals(list_proposals(conn, status="open", limit=PROPOSALS_ON_PAGE))
        muted = silence_lines(list_silences(conn, now))
    drawn = layout(
        defs,
        now,
        evidence={mid: (page.items, page.total) for mid, page in newest.items()},
        changes=history,
    )
    token = page_token(request)
    env: Environment = request.app.state.templates
    html = env.get_template("index.html").render(
        layout=drawn,
        statuses=STATUSES,
        notices=notice_lines(notices, set(ids)),
        feeds=feeds,
        proposals=proposals,
        silences=muted,
        plural=plural,
        config_problems=problem_lines(service.config_status().problems, detailed=is_trusted_reader(request)),
        suffix=f"?token={quote(token, safe='')}" if token else "",
        evidence_suffix=f"&token={quote(token, safe='')}" if token else "",
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})
