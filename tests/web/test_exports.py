"""The calendar and the Atom feed, parsed back by the libraries their consumers use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import feedparser
from icalendar import Calendar

from alerts.notices import NewNotice, publish
from tests.web.conftest import NOW, WRITE


def events(client, **params) -> dict[str, object]:
    response = client.get("/timeline.ics", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_calendar_events_cover_the_windows(client):
    found = events(client)
    assert set(found) == {
        "anthropic-us-construction@timeline-alerts",
        "microsoft-sweden@timeline-alerts",
        "example-point@timeline-alerts",
    }
    span = found["anthropic-us-construction@timeline-alerts"]
    assert span.decoded("dtstart") == date(2025, 1, 1)
    assert span.decoded("dtend") == date(2028, 1, 1)
    # A quarter in Paris: all-day dates in the milestone's zone, not the UTC instants (30 June 22:00).
    paris = found["example-point@timeline-alerts"]
    assert paris.decoded("dtstart") == date(2026, 7, 1)
    assert paris.decoded("dtend") == date(2026, 10, 1)
    assert int(paris["sequence"]) == 1
    alarms = paris.walk("VALARM")
    assert len(alarms) == 1
    assert alarms[0].decoded("trigger") == -timedelta(days=30)
    assert str(alarms[0]["action"]) == "DISPLAY"
    assert paris.decoded("dtstamp").tzinfo is not None


def test_an_instant_is_a_timed_event_and_rescheduling_raises_the_sequence(client):
    body = {"id": "launch", "title": "Launch", "when": "2026-03-02T10:30+01:00", "remind": ["7d"], "tags": ["x"]}
    assert client.post("/api/milestones", json=body, headers=WRITE).status_code == 201
    launch = events(client, tag="x")
    assert list(launch) == ["launch@timeline-alerts"]
    event = launch["launch@timeline-alerts"]
    assert event.decoded("dtstart") == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
    assert int(event["sequence"]) == 1

    moved = client.patch("/api/milestones/launch", json={"when": "2026-04-02T10:30+02:00"}, headers=WRITE)
    assert moved.status_code == 200, moved.text
    event = events(client, tag="x")["launch@timeline-alerts"]
    assert int(event["sequence"]) == 2
    assert event.decoded("dtstart") == datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
    # A status change is not a reschedule.
    client.patch("/api/milestones/launch", json={"status": "done"}, headers=WRITE)
    event = events(client, tag="x")["launch@timeline-alerts"]
    assert int(event["sequence"]) == 2
    assert event.walk("VALARM") == []


def test_notices_feed_is_atom_with_stable_ids_and_links(client, engine):
    with engine.begin() as conn:
        publish(
            conn,
            [
                NewNotice(
                    "milestone.due",
                    "milestone.due:example-point:2026-09-30T22:00:00Z",
                    NOW,
                    {"summary": "A dated point in Paris: due now \x07"},
                    subjects=("example-point",),
                ),
                NewNotice("test.ping", "test.ping:1", NOW + timedelta(minutes=1), {"summary": "ping"}),
            ],
            NOW + timedelta(minutes=2),
        )
    response = client.get("/notices.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == "urn:timeline-alerts:notices"
    entries = {e.id: e for e in parsed.entries}
    due = entries["urn:timeline-alerts:notice:milestone.due:example-point:2026-09-30T22:00:00Z"]
    assert due.title == "milestone.due: A dated point in Paris: due now"
    assert due.link == "http://testserver/api/milestones/example-point"
    assert due.updated_parsed[:5] == (2026, 1, 15, 12, 2)
    assert "urn:timeline-alerts:notice:test.ping:1" in entries
    again = feedparser.parse(client.get("/notices.atom").content)
    assert [e.id for e in again.entries] == [e.id for e in parsed.entries]
    only = feedparser.parse(client.get("/notices.atom", params={"type": "test.ping"}).content)
    assert [e.id for e in only.entries] == ["urn:timeline-alerts:notice:test.ping:1"]
