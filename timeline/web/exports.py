"""Exports for other programs: an RFC 5545 calendar of the milestones and an Atom feed of the notices.

The calendar is made with `icalendar`: a milestone is one event with a stable UID and a SEQUENCE that
rises when it is rescheduled, so a subscribed calendar updates the event in place. Date-precision
windows are all-day events in the milestone's zone; instants are timed events; a span covers its
start window's start to its end window's end. The feed is made with `feedgen`.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from feedgen.feed import FeedGenerator
from icalendar import Alarm, Calendar, Event
from sqlalchemy import select

from alerts.notices import NOTICES, about
from alerts.sqltypes import utcnow
from timeline import __version__
from timeline.dates import Schedule
from timeline.durations import format_duration
from timeline.service import Service
from timeline.store import MILESTONES, to_def
from timeline.web.auth import ExportReader, service_of
from timeline.web.schemas import error_responses

router = APIRouter(tags=["exports"])
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ICS_STATUS = {"planned": "TENTATIVE", "in_progress": "CONFIRMED", "done": "CONFIRMED", "cancelled": "CANCELLED"}


def _ok(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {media_type: {"schema": {"type": "string"}}}, "description": description}}


def _bounds(schedule: Schedule) -> tuple[date | datetime, date | datetime]:
    """DTSTART and DTEND: local dates for calendar periods, UTC instants otherwise."""
    first, last = schedule.opens, schedule.closes
    if first.precision.is_date and last.precision.is_date:
        return first.local_start.date(), last.local_end.date()
    return first.start, last.end


def milestone_event(row: Any, stamp: datetime, base_url: str) -> Event:
    m = to_def(row)
    start, end = _bounds(m.schedule)
    event = Event()
    event.add("uid", f"{m.id}@timeline-alerts")
    event.add("dtstamp", stamp)
    event.add("sequence", row.revision)
    event.add("summary", m.title)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("status", _ICS_STATUS.get(m.status, "TENTATIVE"))
    event.add("last-modified", row.updated_at)
    event.add("url", f"{base_url}api/milestones/{quote(m.id)}")
    lines = [f"Window: {m.schedule.describe()} ({m.timezone})", f"Status: {m.status}"]
    lines += [f"Subject: {m.subject}"] if m.subject else []
    lines += [f"Source: {m.source}"] if m.source else []
    lines += [m.notes] if m.notes else []
    event.add("description", "\n".join(lines))
    if m.tags:
        event.add("categories", list(m.tags))
    if m.remind and m.active:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{m.title}: window opens in {format_duration(m.remind[0])}")
        alarm.add("trigger", -m.remind[0])
        event.add_component(alarm)
    return event


@router.get(
    "/timeline.ics",
    summary="The milestones as an iCalendar (RFC 5545) feed to subscribe to",
    response_class=Response,
    responses=_ok("text/calendar", "iCalendar") | error_responses(401, 422, json_route=False),
    dependencies=[ExportReader],
)
def calendar(
    request: Request,
    service: Annotated[Service, Depends(service_of)],
    tag: Annotated[str | None, Query(description="Only milestones with this tag")] = None,
) -> Response:
    cal = Calendar()
    cal.add("prodid", f"-//timeline-alerts//timeline-alerts {__version__}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Milestones: {tag}" if tag else "Milestones")
    query = select(MILESTONES).where(MILESTONES.c.archived_at.is_(None)).order_by(MILESTONES.c.opens_at)
    with service.engine.connect() as conn:
        rows = [r for r in conn.execute(query) if not tag or tag in (r.tags or [])]
    stamp = utcnow()
    base = str(request.base_url)
    for row in rows:
        cal.add_component(milestone_event(row, stamp, base))
    return Response(cal.to_ical(), media_type="text/calendar; charset=utf-8")


def _xml(text: Any) -> str:
    return _XML_UNSAFE.sub("", str(text))


def notice_entry_id(key: str) -> str:
    return "urn:timeline-alerts:notice:" + quote(key, safe=":._-")


@router.get(
    "/notices.atom",
    summary="The notices as an Atom 1.0 feed",
    response_class=Response,
    responses=_ok("application/atom+xml", "Atom 1.0") | error_responses(401, 422, json_route=False),
    dependencies=[ExportReader],
)
def atom(
    request: Request,
    service: Annotated[Service, Depends(service_of)],
    type: Annotated[str | None, Query(description="Only notices of this type")] = None,
    milestone: Annotated[str | None, Query(description="Only notices about this milestone")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    query = select(NOTICES).order_by(NOTICES.c.id.desc()).limit(limit)
    if type:
        query = query.where(NOTICES.c.type == type)
    if milestone:
        query = query.where(about(milestone))
    with service.engine.connect() as conn:
        rows = list(conn.execute(query))
    base = str(request.base_url)
    feed = FeedGenerator()
    feed.id("urn:timeline-alerts:notices")
    feed.title("timeline-alerts notices")
    feed.subtitle("Milestones approaching, due, rescheduled, and feed items that concern them")
    feed.author({"name": "timeline-alerts"})
    feed.link(href=str(request.url.remove_query_params("token")), rel="self", type="application/atom+xml")
    feed.link(href=f"{base}api/notices", rel="alternate", type="application/json")
    feed.generator("timeline-alerts", __version__)
    feed.updated(rows[0].created_at if rows else utcnow())
    for row in rows:
        data = (row.payload or {}).get("data") or {}
        summary = data.get("summary") or data.get("title") or row.type
        entry = feed.add_entry(order="append")
        entry.id(notice_entry_id(row.key))
        entry.title(_xml(f"{row.type}: {summary}"))
        entry.updated(row.created_at)
        entry.published(row.occurred_at)
        entry.category(term=row.type)
        entry.content(_xml(summary), type="text")
        if row.subject:
            entry.link(href=f"{base}api/milestones/{quote(row.subject, safe='')}", rel="alternate")
        else:
            entry.link(href=f"{base}api/notices?type={quote(row.type, safe='')}", rel="alternate")
    return Response(feed.atom_str(pretty=True), media_type="application/atom+xml; charset=utf-8")
