"""The words of every notice `timeline` makes, written once: each function returns the `Message`
(headline, one sentence, up to six facts, a link) carried on the notice as `data["message"]`, which
Slack, Discord, the Atom feed, the page and the CLI render each in their own way.

    milestone.upcoming        Plant online: window opens in 90 days
    milestone.window_opened   Plant online: window open
    milestone.due             Plant online is due
    milestone.overdue         Plant online is overdue by 336 days
    milestone.added           New milestone: Plant online
    milestone.removed         Milestone removed: Plant online
    milestone.rescheduled     Plant online slipped 182 days      End moved from 2027 to 2028-H1 (+182 days).
    milestone.status_changed  Plant online is now done           Status changed from planned to done.
    feed.item_matched         <the article's title>              <its summary>
    feed.failing              Feed failing: Example news
    feed.recovered            Feed working again: Example news

Dates come from `timeline.humanize` in the milestone's own zone; moves are whole calendar days.
Pure: `now` is an argument, no I/O. (`subscription.disabled` and `test.ping` are worded in
`alerts.message`: alerts makes them.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from alerts.message import Message
from timeline import humanize
from timeline.config.milestones import MilestoneDef
from timeline.dates import Precision, Schedule, Window, slip_days, start_shift_days

MILESTONE_TYPES = (
    "milestone.upcoming",
    "milestone.window_opened",
    "milestone.due",
    "milestone.overdue",
    "milestone.added",
    "milestone.removed",
    "milestone.rescheduled",
    "milestone.status_changed",
)
FEED_TYPES = ("feed.item_matched", "feed.failing", "feed.recovered")
_STATUS_WORDS = {"in_progress": "in progress"}
_COMPACT = (Precision.YEAR, Precision.HALF, Precision.QUARTER)


def page_link(base_url: str | None, milestone_id: str) -> str | None:
    """The milestone's anchor on the page, `{base_url}/#m-<id>`, or None without a base URL."""
    return f"{base_url.rstrip('/')}/#m-{quote(milestone_id, safe='')}" if base_url else None


def status_words(status: str) -> str:
    """`in_progress` → `in progress`: a status as people say it."""
    return _STATUS_WORDS.get(status, status.replace("_", " "))


def _facts(m: MilestoneDef, now: datetime, *first: tuple[str, str], when: str = "When") -> list[tuple[str, str]]:
    """`first`, then the facts every milestone message ends with (empty ones are dropped later)."""
    return [
        *first,
        (when, humanize.schedule(m.schedule)),
        ("Due", _due(m, now)),
        ("Status", status_words(m.status)),
        ("Subject", m.subject or ""),
        ("Tags", ", ".join(m.tags)),
        ("Source", m.source or ""),
    ]


def _due(m: MilestoneDef, now: datetime) -> str:
    """`1 Jul 2027, in 181 days`, `1 Jul 2027, today`, `1 Jan 2028, overdue by 335 days`."""
    due_at, tz = m.schedule.due_at, m.timezone
    days = humanize.calendar_days(now, due_at, tz)
    when = f"overdue by {humanize.plural(-days, 'day')}" if now >= due_at and days != 0 else humanize.in_days(days)
    return f"{humanize.day(due_at, tz)}, {when}"


def _link(m: MilestoneDef, base_url: str | None) -> str | None:
    return page_link(base_url, m.id) or m.source


def _short_day(w: Window) -> bool:
    """True when a window is a day or an instant: it opens and is due on the same date."""
    return not w.precision.is_date or w.precision is Precision.DAY


def stage_message(m: MilestoneDef, stage_type: str, now: datetime, base_url: str | None = None) -> Message:
    """The message of a due-date stage of `m` (`milestone.upcoming`, `.window_opened`, `.due`,
    `.overdue`) as sent at `now`."""
    s, title, tz = m.schedule, m.title, m.timezone
    status = status_words(m.status)
    if stage_type == "milestone.upcoming":
        when = humanize.in_days(humanize.calendar_days(now, s.opens_at, tz))
        if s.is_span:
            head, text = f"{title} starts {when}", f"{title} is planned to run {humanize.schedule(s)}."
        elif _short_day(s.opens):
            head, text = f"{title} is due {when}", f"{title} is expected on {humanize.window(s.opens)}."
        else:
            head, text = f"{title}: window opens {when}", f"{title} is expected in {humanize.window(s.opens)}."
    elif stage_type == "milestone.window_opened":
        due = humanize.due(s.due_at, now, tz)
        if s.is_span:
            head = f"{title}: start window open"
            text = f"{title} is planned to start in {humanize.window(s.opens)}; {due}."
        else:
            head, text = f"{title}: window open", f"{title} is expected in {humanize.window(s.opens)}; {due}."
    elif stage_type == "milestone.due":
        head = f"{title} is due"
        text = f"{title} was expected by the end of {humanize.window(s.closes)} and is still {status}."
    else:
        head = f"{title} is {humanize.due(s.due_at, now, tz)}"
        text = f"{title} was due {humanize.day(s.due_at, tz)} and is still {status}."
    return Message.of(head, text, _facts(m, now), _link(m, base_url))


def _label(w: Window) -> str:
    """A window in a move: as written for a year, half or quarter (`2028-H1`), else as people write
    a date (`September 2027`, `15 Sep 2027`, `15 Sep 2027, 10:30 CEST`)."""
    return w.text if w.precision in _COMPACT else humanize.short_window(w)


def moves(before: Schedule, after: Schedule) -> list[str]:
    """What a reschedule moved, old → new with the calendar days: `end moved from 2027 to 2028-H1
    (+182 days)`; a span names its start and end, a point says `moved from ... to ...`."""
    found = []
    span = before.is_span or after.is_span
    if span and _label(before.opens) != _label(after.opens):
        found.append(
            f"start moved from {_label(before.opens)} to {_label(after.opens)} "
            f"({humanize.signed_days(start_shift_days(before, after))})"
        )
    if _label(before.closes) != _label(after.closes):
        name = "end moved" if span else "moved"
        found.append(
            f"{name} from {_label(before.closes)} to {_label(after.closes)} "
            f"({humanize.signed_days(slip_days(before, after))})"
        )
    if before.closes.timezone != after.closes.timezone:
        found.append(f"time zone changed from {before.closes.timezone} to {after.closes.timezone}")
    return found or [f"dates changed from {humanize.schedule(before)} to {humanize.schedule(after)}"]


def _short(s: Schedule) -> str:
    """`2025 → H1 2028`, `Q2 2027`: a schedule in the fewest words."""
    if s.is_span:
        return f"{humanize.short_window(s.opens)} → {humanize.short_window(s.closes)}"
    return humanize.short_window(s.opens)


def _sentence(parts: Sequence[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def change_message(
    kind: str, m: MilestoneDef, before: MilestoneDef | None, now: datetime, base_url: str | None = None
) -> Message:
    """The message of an edit of the timeline: `added`, `removed`, `rescheduled`, `status_changed`."""
    title = m.title
    facts = _facts(m, now)
    if kind == "rescheduled" and before is not None:
        slip = slip_days(before.schedule, m.schedule)
        if slip > 0:
            head = f"{title} slipped {humanize.plural(slip, 'day')}"
        elif slip < 0:
            head = f"{title} moved {humanize.plural(-slip, 'day')} earlier"
        else:
            head = f"{title} rescheduled"
        text = _sentence(moves(before.schedule, m.schedule))
        facts = _facts(m, now, ("Was", humanize.schedule(before.schedule)), when="Now")
    elif kind == "status_changed" and before is not None:
        head = f"{title} is now {status_words(m.status)}"
        text = f"Status changed from {status_words(before.status)} to {status_words(m.status)}."
    elif kind == "removed":
        head = f"Milestone removed: {title}"
        text = f"{title}, planned for {_short(m.schedule)}, is no longer on the timeline; its history is kept."
        facts = [fact for fact in facts if fact[0] != "Due"]
    else:
        head = f"New milestone: {title}"
        text = (
            f"{title} was added: {humanize.schedule(m.schedule)}, {humanize.due(m.schedule.due_at, now, m.timezone)}."
        )
    return Message.of(head, text, facts, _link(m, base_url))


def item_message(
    *,
    title: str | None,
    link: str | None,
    summary: str | None,
    feed_name: str,
    published: datetime | None,
    terms: Sequence[str],
    milestones: Sequence[str],
    update: bool,
) -> Message:
    """A feed article that matched: headline = the article's title, link = the article."""
    headline = title.strip() if title and title.strip() else f"Untitled article in {feed_name}"
    text = summary.strip() if summary and summary.strip() else f"An article in {feed_name} matched what you watch."
    if update:
        text = f"Updated: {text}"
    facts = [
        ("Feed", feed_name),
        ("Published", humanize.instant(published) if published else ""),
        ("Matched", ", ".join(f"“{term}”" for term in terms if term)),
        ("Milestones", ", ".join(milestones)),
    ]
    return Message.of(headline, text, facts, link)


def failing_message(name: str, url: str, since: datetime, failures: int, error: str | None) -> Message:
    """A feed that has failed since `since`, `failures` times in a row."""
    text = f"{name} has failed {humanize.plural(failures, 'time')} in a row since {humanize.instant(since)}."
    facts = [("Last error", error or "unknown"), ("Failing since", humanize.instant(since)), ("Feed", url)]
    return Message.of(f"Feed failing: {name}", text, facts, url)


def recovered_message(name: str, url: str, since: datetime, now: datetime) -> Message:
    """A feed that works again after failing since `since`."""
    text = f"{name} works again after failing for {humanize.duration(now - since)}."
    facts = [("Failing since", humanize.instant(since)), ("Working again", humanize.instant(now)), ("Feed", url)]
    return Message.of(f"Feed working again: {name}", text, facts, url)
