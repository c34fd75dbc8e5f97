"""Exports for other programs: an RFC 5545 calendar of the milestones and an Atom feed of the notices.

Both are byte-for-byte the same while nothing changed (no "now" in them), carry an ETag and a
Last-Modified, and answer 304 to a client that has them already (`timeline.web.caching`). Links in
them point at the page's anchor of a milestone, `{TIMELINE_PUBLIC_URL}/#m-<id>`, or at the article
a feed item matched; never at the Host header the request came with.

The calendar is made with `icalendar`. A point milestone is one event; a span is two, its start
window and its due window, so that a three-year construction does not fill every day of three years.
Each event has a stable UID, a SEQUENCE that rises when the milestone is rescheduled, and DTSTAMP and
LAST-MODIFIED from the milestone's last revision (RFC 5545 3.8.7.2: without METHOD, DTSTAMP is when
the information last changed). Date-precision windows are all-day events in the milestone's zone;
instants are timed events.

The feed is made with `feedgen`: one entry per notice, worded by the notice's own message
(`alerts.message.message_of`). A `feed.item_matched` entry is the article: its title and its link.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from feedgen.feed import FeedGenerator
from icalendar import Alarm, Calendar, Event

from alerts.message import message_of
from timeline import __version__
from timeline.dates import Window
from timeline.durations import format_duration
from timeline.humanize import day, schedule
from timeline.service import Service
from timeline.settings import Settings
from timeline.store import last_changed, milestone_rows, to_def
from timeline.views import notice_rows
from timeline.web.auth import ExportReader, service_of
from timeline.web.caching import conditional
from timeline.web.links import link, milestone_link
from timeline.web.page_layout import article
from timeline.web.schemas import error_responses

router = APIRouter(tags=["exports"])
_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ICS_STATUS = {"planned": "TENTATIVE", "in_progress": "CONFIRMED", "done": "CONFIRMED", "cancelled": "CANCELLED"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The `updated` of a feed that has no entry yet (a fixed instant keeps its bytes, and ETag, stable)."""


def _ok(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type: {"schema": {"type": "string"}}}, "description": description},
        304: {"description": "Not modified: the client's copy (If-None-Match / If-Modified-Since) is current"},
    }


def _bounds(window: Window) -> tuple[date | datetime, date | datetime]:
    """DTSTART and DTEND: local dates for calendar periods, UTC instants otherwise."""
    if window.precision.is_date:
        return window.local_start.date(), window.local_end.date()
    return window.start, window.end


def milestone_events(row: Any, settings: Settings) -> list[Event]:
    """The calendar events of a stored milestone: one for a point, two (start window and due window)
    for a span."""
    m = to_def(row)
    s = m.schedule
    url = milestone_link(settings, m.id)
    lines = [f"When: {schedule(s)}", f"Due: {day(s.due_at, m.timezone)}"]
    lines += [f"Status: {m.status.replace('_', ' ')}"]
    lines += [f"Subject: {m.subject}"] if m.subject else []
    lines += [f"Source: {m.source}"] if m.source else []
    lines += [m.notes] if m.notes else []
    lines += [url]
    if s.is_span:
        parts = [(f"{m.id}.start", f"{m.title} (starts)", s.opens), (m.id, f"{m.title} (due)", s.closes)]
    else:
        parts = [(m.id, m.title, s.opens)]
    events = []
    for uid, summary, window in parts:
        start, end = _bounds(window)
        event = Event()
        event.add("uid", f"{uid}@timeline-alerts")
        event.add("dtstamp", row.updated_at)
        event.add("last-modified", row.updated_at)
        event.add("sequence", row.revision)
        event.add("summary", summary)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("status", _ICS_STATUS.get(m.status, "TENTATIVE"))
        event.add("url", url)
        event.add("description", "\n".join(lines))
        if m.tags:
            event.add("categories", list(m.tags))
        events.append(event)
    if m.remind and m.active:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{m.title}: window opens in {format_duration(m.remind[0])}")
        alarm.add("trigger", -m.remind[0])
        events[0].add_component(alarm)
    return events


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
    cal.add("x-wr-calname", f"Milestones: {_one_line(tag)}" if tag else "Milestones")
    with service.engine.connect() as conn:
        rows = milestone_rows(conn, tag=tag)
        changed = last_changed(conn)
    for row in rows:
        for event in milestone_events(row, service.settings):
            cal.add_component(event)
    return conditional(request.headers, cal.to_ical(), "text/calendar; charset=utf-8", changed)


def _one_line(text: str) -> str:
    """`text` as one line of printable characters (a calendar's name is one content line)."""
    return " ".join(_XML_UNSAFE.sub(" ", text).split())


def _xml(text: Any) -> str:
    return _XML_UNSAFE.sub("\ufffd", str(text))


def notice_entry_id(key: str) -> str:
    return "urn:timeline-alerts:notice:" + quote(key, safe=":._-")


def entry_updated(created_at: datetime, notice_id: int) -> datetime:
    """An entry's `updated`: when its notice was created, within the second, made distinct for the
    notices one transaction created (they share `created_at`) by the notice's id as microseconds.
    Stable: the same notice gets the same value in every fetch."""
    return created_at.replace(microsecond=0) + timedelta(microseconds=notice_id % 1_000_000)


def _entry_content(payload: Any) -> str:
    """The notice's message as HTML: its sentence and its facts."""
    message = message_of(payload)
    parts = [f"<p>{escape(message.text)}</p>"] if message.text else []
    if message.facts:
        facts = "".join(f"<li>{escape(label)}: {escape(value)}</li>" for label, value in message.facts)
        parts.append(f"<ul>{facts}</ul>")
    return _xml("".join(parts) or f"<p>{escape(message.headline)}</p>")


def _title_and_link(row: Any, settings: Settings) -> tuple[str, str]:
    title, href = article(row)
    page = milestone_link(settings, row.subject) if row.subject else link(settings)
    return title, href or page


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
    settings = service.settings
    with service.engine.connect() as conn:
        rows = notice_rows(conn, type_=type, subject=milestone, limit=limit)
    asked: dict[str, Any] = {k: v for k, v in (("type", type), ("milestone", milestone)) if v}
    asked |= {"limit": limit} if limit != 100 else {}
    feed = FeedGenerator()
    feed.id("urn:timeline-alerts:notices")
    feed.title("timeline-alerts notices")
    feed.subtitle("Milestones approaching, due, rescheduled, and feed items that concern them")
    feed.author({"name": "timeline-alerts"})
    feed.link(href=link(settings, "notices.atom" + (f"?{urlencode(asked)}" if asked else "")), rel="self")
    feed.link(href=link(settings), rel="alternate", type="text/html")
    feed.generator("timeline-alerts", __version__)
    feed.updated(max((entry_updated(row.created_at, row.id) for row in rows), default=EPOCH))
    for row in rows:
        title, href = _title_and_link(row, settings)
        entry = feed.add_entry(order="append")
        entry.id(notice_entry_id(row.key))
        entry.title(_xml(title))
        entry.updated(entry_updated(row.created_at, row.id))
        entry.published(row.occurred_at)
        entry.category(term=row.type)
        entry.content(_entry_content(row.payload), type="html")
        entry.link(href=href, rel="alternate")
    changed = max((row.created_at for row in rows), default=None)
    return conditional(request.headers, feed.atom_str(pretty=True), "application/atom+xml; charset=utf-8", changed)
