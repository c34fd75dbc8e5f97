"""GET /: the timeline as a page, rendered on the server (Jinja2 and inline SVG, no script, no
external asset). `layout` is pure: milestones, evidence and `now` in, the drawing's geometry out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from alerts.sqltypes import utcnow
from timeline.config.milestones import MilestoneDef
from timeline.service import Service
from timeline.store import MILESTONES, to_def
from timeline.web.auth import ExportReader, service_of
from timeline.web.schemas import error_responses
from timeline.web.sources import evidence_for

router = APIRouter(tags=["page"])
TEMPLATES = Path(__file__).parent / "templates"
STATUSES = ("planned", "in_progress", "done", "cancelled")
WIDTH, LEFT, RIGHT, TOP, ROW = 1000, 16, 16, 44, 46
MAX_YEARS_AROUND_NOW = 40
_INSTANT = timedelta(microseconds=1)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def templates() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Row:
    """One milestone drawn: a bar for a span, a marker (on a faint window band) for a point."""

    id: str
    title: str
    label: str
    status: str
    state: str | None  # open | due | overdue | None
    is_span: bool
    y: float
    x1: float
    x2: float
    window: str
    due_at: str
    days_until_due: int
    subject: str | None
    tags: tuple[str, ...]
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    ticks: list[Tick]
    today_x: float
    rows: list[Row]
    now: str


def state_of(m: MilestoneDef, now: datetime) -> str | None:
    if not m.active:
        return None
    s = m.schedule
    if now >= s.due_at + m.grace:
        return "overdue"
    if now >= s.due_at:
        return "due"
    return "open" if now >= s.opens_at else None


def _year_start(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=UTC)


def _human(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _safe_links(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence with only http(s) links kept as links: a hostile feed cannot plant a `javascript:` one."""
    return [
        item | {"link": item["link"] if str(item.get("link") or "").startswith(("http://", "https://")) else None}
        for item in items
    ]


def layout(milestones: list[MilestoneDef], evidence: dict[str, list[dict[str, Any]]], now: datetime) -> Layout:
    first = min([m.schedule.opens_at.year for m in milestones] + [now.year])
    # The year of the last instant before due: "through 2027" ends on 2028-01-01, drawn up to 2027's end.
    last = max([(m.schedule.due_at - _INSTANT).year for m in milestones] + [now.year])
    first = max(first, now.year - MAX_YEARS_AROUND_NOW)
    last = min(last, now.year + MAX_YEARS_AROUND_NOW)
    t0, t1 = _year_start(first), _year_start(last + 1)
    span = (t1 - t0).total_seconds()
    inner = WIDTH - LEFT - RIGHT

    def x(moment: datetime) -> float:
        ratio = (moment - t0).total_seconds() / span
        return round(LEFT + inner * min(1.0, max(0.0, ratio)), 1)

    years = last + 1 - first
    step = 1 if years <= 12 else 5 if years <= 50 else 10
    ticks = [Tick(x(_year_start(y)), str(y)) for y in range(first, last + 1) if y % step == 0 or y == first]
    rows = []
    for index, m in enumerate(milestones):
        s = m.schedule
        seconds = (s.due_at - now).total_seconds()
        rows.append(
            Row(
                id=m.id,
                title=m.title,
                label=_short(m.title),
                status=m.status if m.status in STATUSES else "planned",
                state=state_of(m, now),
                is_span=s.is_span,
                y=TOP + index * ROW,
                x1=x(s.opens_at),
                x2=max(x(s.due_at), x(s.opens_at) + 2),
                window=f"{s.describe()} ({m.timezone})",
                due_at=_human(s.due_at),
                days_until_due=int(seconds // 86400) if seconds >= 0 else -int(-seconds // 86400),
                subject=m.subject,
                tags=m.tags,
                evidence=_safe_links(evidence.get(m.id, [])),
            )
        )
    return Layout(WIDTH, TOP + len(rows) * ROW + 12, ticks, x(now), rows, _human(now))


@router.get(
    "/",
    summary="The timeline as a page",
    response_class=HTMLResponse,
    responses=error_responses(401, 422, json_route=False),
    dependencies=[ExportReader],
)
def page(request: Request, service: Annotated[Service, Depends(service_of)]) -> HTMLResponse:
    now = utcnow()
    query = select(MILESTONES).where(MILESTONES.c.archived_at.is_(None)).order_by(MILESTONES.c.opens_at)
    with service.engine.connect() as conn:
        defs = [to_def(row) for row in conn.execute(query)]
        evidence = evidence_for(conn, [m.id for m in defs])
    env: Environment = request.app.state.templates
    html = env.get_template("index.html").render(layout=layout(defs, evidence, now), statuses=STATUSES)
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})
