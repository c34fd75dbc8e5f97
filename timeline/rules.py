"""Which notices are due: pure functions of (milestone, keys already created, now, settings).

A milestone's life is cut into consecutive stages, each a half-open interval of time:

    upcoming 90d | upcoming 30d | upcoming 7d | upcoming 1d | window_opened | due | overdue 1 | overdue 2 ...
    ^opens-90d     ^opens-30d     ^opens-7d     ^opens-1d     ^opens          ^due  ^due+grace  ^+repeat

At any instant at most one stage holds. A scan creates the notice of the stage that holds now, if not
created yet. So after downtime the scan catches up with the one stage that still applies (no burst of
stale "90 days left" once the date is near), reruns create nothing, and the next instant worth
waking up for is the start of the next stage. Stages that began before the milestone was known (a
milestone first synced after its date) are history, not news: they notify only with NOTIFY_PAST.

Done and cancelled milestones have no stages. Notice keys hold the window, so a rescheduled
milestone gets a fresh set of reminders for its new dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts.newnotice import NewNotice
from timeline.config.milestones import MilestoneDef
from timeline.dates import utc_text, whole_days
from timeline.durations import format_duration
from timeline.wording import stage_message

_FAR = timedelta(days=365 * 1000)


@dataclass(frozen=True)
class Stage:
    type: str
    key: str
    start: datetime
    end: datetime
    label: str = ""


def stages(m: MilestoneDef) -> Iterator[Stage]:
    """The stages of `m` in time order (overdue stages repeat without end when `repeat` is set)."""
    if not m.active:
        return
    opens, due = m.schedule.opens_at, m.schedule.due_at
    leads = [lead for lead in m.remind if lead > timedelta(0)]
    for index, lead in enumerate(leads):
        following = leads[index + 1] if index + 1 < len(leads) else timedelta(0)
        yield Stage(
            "milestone.upcoming",
            f"milestone.upcoming:{m.id}:{utc_text(opens)}:{format_duration(lead)}",
            opens - lead,
            opens - following,
            format_duration(lead),
        )
    if opens < due:
        yield Stage("milestone.window_opened", f"milestone.window_opened:{m.id}:{utc_text(opens)}", opens, due)
    overdue_from = due + m.grace
    if due < overdue_from:
        yield Stage("milestone.due", f"milestone.due:{m.id}:{utc_text(due)}", due, overdue_from)
    n = 1
    while True:
        yield _overdue(m, n)
        if not m.repeat:
            return
        n += 1


def _overdue(m: MilestoneDef, n: int) -> Stage:
    """The n-th overdue stage (1-based); without `repeat` the first one lasts for ever."""
    due = m.schedule.due_at
    start = due + m.grace + (m.repeat or _FAR) * (n - 1)
    end = start + (m.repeat or _FAR)
    return Stage("milestone.overdue", f"milestone.overdue:{m.id}:{utc_text(due)}:{n}", start, end, str(n))


def stage_at(m: MilestoneDef, now: datetime) -> tuple[Stage | None, datetime | None]:
    """The stage holding at `now` (or None) and the instant the next stage starts (or None: no more)."""
    if not m.active:
        return None, None
    overdue_from = m.schedule.due_at + m.grace
    if m.repeat and now >= overdue_from:
        # Straight to the overdue stage that holds, without walking every repeat before it.
        stage = _overdue(m, int((now - overdue_from) / m.repeat) + 1)
        return stage, stage.end
    for stage in stages(m):
        if stage.end <= now:
            continue
        if stage.start > now:
            return None, stage.start
        return stage, (stage.end if stage.end - stage.start < _FAR else None)
    return None, None


@dataclass(frozen=True)
class Decision:
    """What a scan of one milestone should do: notices to create, and when to look again."""

    notices: tuple[NewNotice, ...]
    next_check_at: datetime | None


def decide(
    m: MilestoneDef,
    sent: set[str],
    now: datetime,
    known_since: datetime,
    notify_past: bool,
    base_url: str | None = None,
) -> Decision:
    """The notice due now for `m` (if any and not in `sent`), and the next instant worth a scan.
    `base_url` is where people reach the page: the message links to the milestone's row on it."""
    stage, next_at = stage_at(m, now)
    if stage is None or stage.key in sent:
        return Decision((), next_at)
    if stage.start < known_since and not notify_past:
        return Decision((), next_at)
    return Decision((stage_notice(m, stage, now, base_url),), next_at)


def stage_notice(m: MilestoneDef, stage: Stage, now: datetime, base_url: str | None = None) -> NewNotice:
    data = milestone_data(m, now)
    data["stage"] = stage.label or None
    data["summary"] = _summary(m, stage, now)
    data["message"] = stage_message(m, stage.type, now, base_url).as_dict()
    return NewNotice(stage.type, stage.key, stage.start, data, subjects=(m.id,), tags=m.tags)


def _summary(m: MilestoneDef, stage: Stage, now: datetime) -> str:
    days = whole_days(m.schedule.due_at - now)
    if stage.type == "milestone.upcoming":
        return f"{m.title}: window opens in {stage.label} ({m.schedule.describe()})"
    if stage.type == "milestone.window_opened":
        return f"{m.title}: window opened ({m.schedule.describe()}), due in {days} days"
    if stage.type == "milestone.due":
        return f"{m.title}: due now ({m.schedule.describe()}), status {m.status}"
    return f"{m.title}: overdue by {-days} days ({m.schedule.describe()}), status {m.status}"


def milestone_data(m: MilestoneDef, now: datetime) -> dict[str, Any]:
    """The `data` of every milestone notice: what a receiver needs without calling back."""
    s = m.schedule
    return {
        "milestone": m.id,
        "title": m.title,
        "subject": m.subject,
        "status": m.status,
        "tags": list(m.tags),
        "window": {
            "text": s.describe(),
            "opens_at": utc_text(s.opens_at),
            "due_at": utc_text(s.due_at),
            "timezone": m.timezone,
        },
        "days_until_due": whole_days(s.due_at - now),
        "source": m.source,
    }


def scan(
    milestones: Iterable[tuple[MilestoneDef, datetime]],
    sent: set[str],
    now: datetime,
    notify_past: bool,
    base_url: str | None = None,
) -> dict[str, Decision]:
    """Decide every milestone given with the instant it became known. Keys in `sent` are not created again."""
    return {m.id: decide(m, sent, now, known, notify_past, base_url) for m, known in milestones}
