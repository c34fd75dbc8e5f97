"""The calendar and the Atom feed, parsed back by the libraries their consumers use."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import feedparser
import pytest
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from alerts.message import Message
from alerts.notices import NewNotice, publish
from tests.web.conftest import NOW, READ_TOKEN, WRITE
from timeline.web.caching import etag, http_time, not_modified
from timeline.web.exports import entry_updated

PUBLIC = "https://timeline.example.org/team"
EVIL = {"Host": "evil.example"}


def events(client, **params) -> dict[str, object]:
    response = client.get("/timeline.ics", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_a_span_is_its_start_window_and_its_due_window_not_one_block_of_years(client):
    found = events(client)
    assert set(found) == {
        "anthropic-us-construction.start@timeline-alerts",
        "anthropic-us-construction@timeline-alerts",
        "microsoft-sweden@timeline-alerts",
        "example-point@timeline-alerts",
    }
    start = found["anthropic-us-construction.start@timeline-alerts"]
    assert (start.decoded("dtstart"), start.decoded("dtend")) == (date(2025, 1, 1), date(2026, 1, 1))
    assert str(start["summary"]) == "Construction of Anthropic's US data centres (starts)"
    due = found["anthropic-us-construction@timeline-alerts"]
    assert (due.decoded("dtstart"), due.decoded("dtend")) == (date(2027, 1, 1), date(2028, 1, 1))
    assert str(due["summary"]) == "Construction of Anthropic's US data centres (due)"
    assert "When: 2025 → 2027 (1 Jan 2025 – 31 Dec 2027)" in str(due["description"])
    assert "Due: 1 Jan 2028" in str(due["description"])
    # A quarter in Paris: all-day dates in the milestone's zone, not the UTC instants (30 June 22:00).
    paris = found["example-point@timeline-alerts"]
    assert paris.decoded("dtstart") == date(2026, 7, 1)
    assert paris.decoded("dtend") == date(2026, 10, 1)
    assert int(paris["sequence"]) == 1
    alarms = paris.walk("VALARM")
    assert len(alarms) == 1
    assert alarms[0].decoded("trigger") == -timedelta(days=30)
    assert str(alarms[0]["action"]) == "DISPLAY"


def test_events_are_stamped_with_the_milestones_last_revision_and_fetches_give_the_same_bytes(make_client):
    client = make_client(public_url=PUBLIC)
    with freeze_time(NOW + timedelta(days=3)):
        first = client.get("/timeline.ics", headers=EVIL)
    with freeze_time(NOW + timedelta(days=40)):
        second = client.get("/timeline.ics")
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    event = Calendar.from_ical(first.content).walk("VEVENT")[0]
    # The config was applied at NOW: that is the last revision, whenever the calendar is fetched.
    assert event.decoded("dtstamp") == NOW
    assert event.decoded("last-modified") == NOW
    assert first.headers["last-modified"] == "Thu, 15 Jan 2026 12:00:00 GMT"
    urls = {str(e["uid"]): str(e["url"]) for e in Calendar.from_ical(first.content).walk("VEVENT")}
    assert urls["example-point@timeline-alerts"] == f"{PUBLIC}/#m-example-point"
    assert b"evil.example" not in first.content


def test_an_instant_is_a_timed_event_and_rescheduling_raises_the_sequence_and_the_stamp(client):
    body = {"id": "launch", "title": "Launch", "when": "2026-03-02T10:30+01:00", "remind": ["7d"], "tags": ["x"]}
    with freeze_time(NOW):
        assert client.post("/api/milestones", json=body, headers=WRITE).status_code == 201
    event = events(client, tag="x")["launch@timeline-alerts"]
    assert event.decoded("dtstart") == datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
    assert int(event["sequence"]) == 1
    etag_before = client.get("/timeline.ics", params={"tag": "x"}).headers["etag"]

    later = NOW + timedelta(hours=5)
    with freeze_time(later):
        moved = client.patch("/api/milestones/launch", json={"when": "2026-04-02T10:30+02:00"}, headers=WRITE)
    assert moved.status_code == 200, moved.text
    event = events(client, tag="x")["launch@timeline-alerts"]
    assert int(event["sequence"]) == 2
    assert event.decoded("dtstart") == datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
    assert event.decoded("dtstamp") == later
    assert client.get("/timeline.ics", params={"tag": "x"}).headers["etag"] != etag_before
    # A status change is not a reschedule.
    client.patch("/api/milestones/launch", json={"status": "done"}, headers=WRITE)
    event = events(client, tag="x")["launch@timeline-alerts"]
    assert int(event["sequence"]) == 2
    assert event.walk("VALARM") == []


@pytest.mark.parametrize("path", ["/timeline.ics", "/notices.atom"])
def test_exports_answer_304_to_a_client_that_has_them(client, engine, path):
    with engine.begin() as conn:
        publish(conn, [NewNotice("test.ping", "test.ping:1", NOW, {"summary": "ping"})], NOW)
    first = client.get(path)
    assert first.status_code == 200
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    assert tag.startswith('"') and modified.endswith("GMT")

    again = client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert client.get(path, headers={"If-None-Match": f'"other", W/{tag}'}).status_code == 304
    assert client.get(path, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200
    assert client.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    # An unreadable date is no condition: the whole answer, not an error.
    assert client.get(path, headers={"If-Modified-Since": "²".encode()}).status_code == 200


def test_something_new_changes_the_atom_validators(client, engine):
    with engine.begin() as conn:
        publish(conn, [NewNotice("test.ping", "test.ping:1", NOW, {"summary": "ping"})], NOW)
    tag = client.get("/notices.atom").headers["etag"]
    with engine.begin() as conn:
        publish(conn, [NewNotice("test.ping", "test.ping:2", NOW, {"summary": "pong"})], NOW + timedelta(hours=1))
    fresh = client.get("/notices.atom", headers={"If-None-Match": tag})
    assert fresh.status_code == 200
    assert fresh.headers["etag"] != tag
    assert fresh.headers["last-modified"] == http_time(NOW + timedelta(hours=1))


def _due_notice(key: str) -> NewNotice:
    message = Message.of(
        "A dated point in Paris is due",
        "Its window Q3 2026 closed today.",
        [("Window", "Q3 2026 (1 Jul – 30 Sep 2026)"), ("Status", "planned")],
        "https://timeline.example.org/team/#m-example-point",
    )
    return NewNotice(
        "milestone.due",
        key,
        NOW,
        {"summary": "machine summary \x07", "message": message.as_dict()},
        subjects=("example-point",),
    )


def test_notices_feed_entries_are_worded_by_their_message_and_link_to_the_page(make_client, engine):
    client = make_client(public_url=PUBLIC)
    article = {
        "title": "Anthropic breaks ground in Texas",
        "link": "https://news.example.com/anthropic-texas",
        "summary": "Construction began",
        "feed": {"id": "dc", "name": "Data centre news: a description of the feed"},
    }
    with engine.begin() as conn:
        publish(
            conn,
            [
                _due_notice("milestone.due:example-point:2026-09-30T22:00:00Z"),
                NewNotice("feed.item_matched", "feed.item_matched:dc:1", NOW, article, subjects=("example-point",)),
                NewNotice("feed.item_matched", "feed.item_matched:dc:2", NOW, article | {"link": "javascript:x()"}),
                NewNotice("test.ping", "test.ping:1", NOW + timedelta(minutes=1), {"summary": "ping"}),
            ],
            NOW + timedelta(minutes=2),
        )
    response = client.get("/notices.atom", headers=EVIL)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    assert b"evil.example" not in response.content
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == "urn:timeline-alerts:notices"
    assert {link.rel: link.href for link in parsed.feed.links} == {
        "self": f"{PUBLIC}/notices.atom",
        "alternate": f"{PUBLIC}/",
    }
    entries = {e.id: e for e in parsed.entries}
    due = entries["urn:timeline-alerts:notice:milestone.due:example-point:2026-09-30T22:00:00Z"]
    assert due.title == "A dated point in Paris is due"
    assert due.link == f"{PUBLIC}/#m-example-point"
    content = due.content[0].value
    assert "<p>Its window Q3 2026 closed today.</p>" in content
    assert "<li>Window: Q3 2026 (1 Jul – 30 Sep 2026)</li>" in content
    assert "machine summary" not in content
    match = entries["urn:timeline-alerts:notice:feed.item_matched:dc:1"]
    assert match.title == "Anthropic breaks ground in Texas"
    assert match.link == "https://news.example.com/anthropic-texas"
    unsafe = entries["urn:timeline-alerts:notice:feed.item_matched:dc:2"]
    assert unsafe.link == f"{PUBLIC}/"
    ping = entries["urn:timeline-alerts:notice:test.ping:1"]
    assert ping.title == "Test notice: this webhook works"  # alerts words its own notices
    assert "<li>Subscription: a subscription</li>" in ping.content[0].value
    # The three notices of one transaction are three distinct instants in the same second.
    updated = [e.updated for e in parsed.entries]
    assert len(set(updated)) == len(updated)
    assert {e.updated_parsed[:6] for e in parsed.entries} == {(2026, 1, 15, 12, 2, 0)}
    only = feedparser.parse(client.get("/notices.atom", params={"type": "test.ping"}).content)
    assert [e.id for e in only.entries] == ["urn:timeline-alerts:notice:test.ping:1"]
    assert only.feed.links[0].href == f"{PUBLIC}/notices.atom?type=test.ping"


def test_an_empty_feed_is_stable(client):
    first, second = client.get("/notices.atom"), client.get("/notices.atom")
    assert first.content == second.content
    assert "last-modified" not in first.headers
    assert feedparser.parse(first.content).feed.updated_parsed[:3] == (1970, 1, 1)


def test_exports_take_the_read_token_in_the_url_but_not_the_write_token(make_client):
    client = make_client(api_read_token=READ_TOKEN)
    for path in ("/timeline.ics", "/notices.atom", "/"):
        assert client.get(path).status_code == 401
        assert client.get(path, params={"token": READ_TOKEN}).status_code == 200
        refused = client.get(path, params={"token": WRITE["Authorization"].removeprefix("Bearer ")})
        assert refused.status_code == 401, path
        assert refused.json()["error"]["field"] == "token"
        assert "not accepted in a URL" in refused.json()["error"]["message"]
        assert client.get(path, headers=WRITE).status_code == 200


def test_the_write_token_is_refused_in_a_url_even_where_reads_are_open(client):
    refused = client.get("/timeline.ics", params={"token": WRITE["Authorization"].removeprefix("Bearer ")})
    assert refused.status_code == 401
    assert client.get("/timeline.ics", params={"token": "anything else"}).status_code == 200


@given(st.text(max_size=300))
def test_conditional_headers_never_raise(text):
    tag = etag(b"body")
    assert not_modified({"if-none-match": text}, tag, NOW) in (True, False)
    assert not_modified({"if-modified-since": text}, tag, NOW) in (True, False)


@given(st.integers(min_value=1, max_value=2**62))
def test_entries_of_one_second_get_distinct_stable_updated_values(notice_id):
    moment = NOW + timedelta(microseconds=123)
    stamp = entry_updated(moment, notice_id)
    assert stamp == entry_updated(moment, notice_id)
    assert stamp.replace(microsecond=0) == NOW
    assert entry_updated(moment, notice_id + 1) != stamp


def test_a_calendar_asked_for_a_tag_with_line_breaks_is_still_one_calendar(client):
    response = client.get("/timeline.ics", params={"tag": "a\nb\x16c"})
    assert response.status_code == 200
    assert Calendar.from_ical(response.content)["x-wr-calname"] == "Milestones: a b c"
