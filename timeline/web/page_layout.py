"""The timeline page's drawing, decided without I/O: milestones, their slips and evidence, the recent
notices and `now` in; rows with positions (percentages of the time axis) and words out.

Every date a person reads is written by `timeline.humanize` and carries its ISO instant for the
`title` attribute (`Stamp`). The axis is labelled by year segments (a label is centred in the years it
names, so none sticks out of the chart), in two densities: `wide` for a desktop chart, `narrow` for
narrow screens and each row's own mini axis on a phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from alerts.message import clean, message_of, web_link
from timeline.config.milestones import STATUSES, MilestoneDef
from timeline.dates import Schedule, point, span, utc_text
from timeline.humanize import day, due, instant, plural, schedule, short_window

MAX_YEARS_AROUND_NOW = 40
WIDE_LABELS, NARROW_LABELS = 12, 5
_STEPS = (1, 2, 5, 10, 20, 25, 50)
_INSTANT = timedelta(microseconds=1)


@dataclass(frozen=True)
class Stamp:
    """A date for people (`text`) with its machine form (`iso`) for `<time datetime title>`."""

    text: str
    iso: str


@dataclass(frozen=True)
class Segment:
    """A labelled stretch of the axis: `left` and `width` in percent."""

    left: float
    width: float
    label: str


@dataclass(frozen=True)
class Slip:
    """One reschedule: the window it moved to and by how many days its due date moved."""

    to: str
    days: str


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    status: str
    state: str | None  # open | due | overdue | None
    is_span: bool
    left: float  # percent of the axis where the window opens
    width: float  # percent of the axis the window covers
    window: Stamp
    due: Stamp
    subject: str | None
    tags: tuple[str, ...]
    slipped_from: str | None = None
    slips: tuple[Slip, ...] = ()
    evidence: tuple[dict[str, Any], ...] = ()
    evidence_total: int = 0


@dataclass(frozen=True)
class NoticeLine:
    at: Stamp
    headline: str
    text: str
    href: str | None


@dataclass(frozen=True)
class FailingFeed:
    name: str
    since: Stamp | None
    failures: str
    error: str | None


@dataclass(frozen=True)
class FeedsPanel:
    watched: int
    failing: tuple[FailingFeed, ...]


@dataclass(frozen=True)
class SilenceLine:
    what: str
    until: Stamp
    reason: str


@dataclass(frozen=True)
class Layout:
    now: Stamp
    wide: tuple[Segment, ...]
    narrow: tuple[Segment, ...]
    gridlines: tuple[float, ...]
    today: float | None  # percent, None when today is off the axis
    rows: tuple[Row, ...]


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


def _segments(first: int, last: int, most: int, x: Any) -> tuple[Segment, ...]:
    """Year segments from `first` to `last` (inclusive), at most `most` of them, aligned on a round step."""
    years = last + 1 - first
    step = next((s for s in _STEPS if -(-years // s) + 1 <= most), _STEPS[-1])
    segments = []
    start = first
    while start <= last:
        end = min(last + 1, (start // step + 1) * step)
        label = str(start) if end - start == 1 else f"{start}–{str(end - 1)[-2:]}"
        left, right = x(_year_start(start)), x(_year_start(end))
        segments.append(Segment(left, round(right - left, 3), label))
        start = end
    return tuple(segments)


def _stamp(moment: datetime, text: str) -> Stamp:
    return Stamp(text, utc_text(moment))


def _short(s: Schedule) -> str:
    """A schedule in the fewest words: `Q3 2026`, or `2025–2027` for a span."""
    if not s.is_span:
        return short_window(s.opens)
    return f"{short_window(s.opens)}–{short_window(s.closes)}"


def _snapshot_schedule(snapshot: Any) -> Schedule | None:
    """The schedule a change-history snapshot describes, or None when it cannot be read again."""
    if not isinstance(snapshot, dict):
        return None
    try:
        zone = str(snapshot.get("timezone") or "UTC")
        if snapshot.get("when_text"):
            return point(str(snapshot["when_text"]), zone)
        return span(str(snapshot["starts_text"]), str(snapshot["ends_text"]), zone)
    except (KeyError, ValueError, OverflowError, TypeError):
        return None


def _signed_days(days: int) -> str:
    return ("+" if days >= 0 else "-") + plural(abs(days), "day")


def slips_of(changes: Sequence[Any]) -> tuple[str | None, tuple[Slip, ...]]:
    """The windows a milestone was moved through, old → new: where it started and each move with its
    days. `changes` are its change-history rows (any kind; only `rescheduled` ones count)."""
    moves = [c for c in changes if c.kind == "rescheduled"]
    if not moves:
        return None, ()
    first = _snapshot_schedule(moves[0].before)
    slips = []
    for change in moves:
        after = _snapshot_schedule(change.after)
        shown = _short(after) if after else str((change.after or {}).get("window", "?"))
        slips.append(Slip(shown, _signed_days(change.slip_days or 0)))
    start = _short(first) if first else str((moves[0].before or {}).get("window", "?"))
    return start, tuple(slips)


def _safe_links(items: Sequence[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Evidence with human dates, and only http(s) links kept as links (no `javascript:`)."""
    shown = []
    for item in items:
        published = _parse(item.get("published"))
        stamp = _stamp(published, day(published)) if published else None
        shown.append(item | {"link": web_link(item.get("link")), "published_stamp": stamp})
    return tuple(shown)


def _parse(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def layout(
    milestones: Sequence[MilestoneDef],
    now: datetime,
    *,
    evidence: dict[str, tuple[list[dict[str, Any]], int]] | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> Layout:
    """The page's geometry and words. `evidence` maps a milestone id to (newest items, total);
    `changes` to its change-history rows, oldest first."""
    evidence, changes = evidence or {}, changes or {}
    first = min([m.schedule.opens_at.year for m in milestones] + [now.year])
    # The year of the last instant before due: "through 2027" ends on 2028-01-01, drawn up to 2027's end.
    last = max([(m.schedule.due_at - _INSTANT).year for m in milestones] + [now.year])
    first = max(first, now.year - MAX_YEARS_AROUND_NOW)
    last = min(last, now.year + MAX_YEARS_AROUND_NOW)
    t0, t1 = _year_start(first), _year_start(last + 1)
    total = (t1 - t0).total_seconds()

    def x(moment: datetime) -> float:
        return round(100 * min(1.0, max(0.0, (moment - t0).total_seconds() / total)), 3)

    wide = _segments(first, last, WIDE_LABELS, x)
    rows = []
    for m in milestones:
        s = m.schedule
        left, right = x(s.opens_at), x(s.due_at)
        items, count = evidence.get(m.id, ([], 0))
        slipped_from, slips = slips_of(changes.get(m.id, []))
        due_text = due(s.due_at, now, m.timezone) if m.active else f"due {day(s.due_at, m.timezone)}"
        rows.append(
            Row(
                id=m.id,
                title=m.title,
                status=m.status if m.status in STATUSES else "planned",
                state=state_of(m, now),
                is_span=s.is_span,
                left=left,
                width=round(right - left, 3),
                window=_stamp(s.opens_at, schedule(s)),
                due=_stamp(s.due_at, due_text),
                subject=m.subject,
                tags=m.tags,
                slipped_from=slipped_from,
                slips=slips,
                evidence=_safe_links(items),
                evidence_total=count,
            )
        )
    today = x(now) if t0 <= now < t1 else None
    return Layout(
        now=_stamp(now, instant(now)),
        wide=wide,
        narrow=_segments(first, last, NARROW_LABELS, x),
        gridlines=tuple(s.left for s in wide[1:]),
        today=today,
        rows=tuple(rows),
    )


def notice_lines(rows: Sequence[Any], page_ids: set[str]) -> tuple[NoticeLine, ...]:
    """Recent notices as lines of the page: when, the headline and sentence of the notice's message,
    and a link (the article of a feed match, else the milestone's row when it is on the page)."""
    lines = []
    for row in rows:
        headline, href = article(row)
        message = message_of(row.payload)
        if href is None and row.subject in page_ids:
            href = f"#m-{quote(row.subject, safe='')}"
        lines.append(NoticeLine(_stamp(row.created_at, instant(row.created_at)), headline, message.text, href))
    return tuple(lines)


def article(row: Any) -> tuple[str, str | None]:
    """What a notice row is called, and the page it is about when that is an article: a feed match is
    its article's title and link (an http(s) link only); any other notice is its message's headline."""
    message = message_of(row.payload)
    payload = row.payload if isinstance(row.payload, dict) else {}
    found = payload.get("data")
    data: dict[str, Any] = found if isinstance(found, dict) else {}
    if row.type != "feed.item_matched":
        return message.headline, None
    title = data.get("title")
    title = clean(title.strip()) if isinstance(title, str) and title.strip() else message.headline
    return title, web_link(data.get("link"))


def feeds_panel(feeds: Sequence[Any]) -> FeedsPanel:
    """The active feeds' health for the page: how many are watched, and the failing ones with since
    when, how many failures in a row, and the last error. `feeds` are `FeedHealth`s."""
    active = [f for f in feeds if f.active]
    failing = tuple(
        FailingFeed(
            name=f.name,
            since=_stamp(f.failing_since, day(f.failing_since)) if f.failing_since else None,
            failures=plural(f.consecutive_failures, "failure"),
            error=f.last_error,
        )
        for f in active
        if f.status == "error" or f.failing_since is not None
    )
    return FeedsPanel(len(active), failing)


def silence_lines(silences: Sequence[Any]) -> tuple[SilenceLine, ...]:
    """The silences holding, for the page: what each mutes (a milestone or a tag, and which notice
    types when not all), until when, and why. `silences` are `alerts.silences.Silence`s."""
    lines = []
    for s in silences:
        what = f"Milestone {s.subject}" if s.subject is not None else f"Tag {s.tag}"
        if s.types != "*":
            what += f" ({s.types})"
        lines.append(SilenceLine(what, _stamp(s.ends_at, instant(s.ends_at)), s.reason))
    return tuple(lines)
