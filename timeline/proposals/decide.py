"""Deciding whether what an article says moves a milestone: pure, no database, no clock.

`propose(milestone, mentions, published)` takes a milestone and the dates an item states
(`timeline.evidence.find_dates` on its title and summary) and returns the window the article gives
instead of the milestone's, or None. Which of the milestone's dates a date speaks of: a point's
`when`; for a span, its `ends` (the deadline), unless the phrase is about the start ("construction
begins in 2028"), then its `starts`. A date that overlaps the window it speaks of confirms it; a
date already over when the item was published is history ("announced in 2024"), not a plan. Of the
dates left, one whose phrase says what it is about (start or end) is preferred, then the last one
written ("pushed from Q4 2026 to spring 2027": spring 2027).

The proposed value is a single period in milestones.yaml words, so that accepting it changes one
value of the file: the period named, or for a range the end it speaks of ("fin 2027",
2027-09..2027-12, proposes `2027-12` for a deadline: the same due date).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from timeline.config.milestones import MilestoneDef
from timeline.dates import Window, parse_window
from timeline.evidence import About, Mention

MAX_SENTENCE = 600
"""Characters kept of the sentence a date was read in."""
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)|\n+")


@dataclass(frozen=True)
class Stated:
    """A date an item states, with the text it was read in (the item's title or its summary)."""

    mention: Mention
    source: str

    @property
    def sentence(self) -> str:
        return sentence_at(self.source, self.mention.span)


@dataclass(frozen=True)
class Proposed:
    """A new value for one of a milestone's dates, and the date of the item it comes from.

    `field` is `when`, `starts` or `ends`; `current` the milestone's window for that field,
    `proposed` the new one (in the milestone's time zone)."""

    milestone_id: str
    field: str
    current: Window
    proposed: Window
    stated: Stated

    @property
    def slip_days(self) -> int:
        """Whole days the date moves: for `starts` its opening, else its due date (the window's end);
        positive when later."""
        if self.field == "starts":
            seconds = (self.proposed.start - self.current.start).total_seconds()
        else:
            seconds = (self.proposed.end - self.current.end).total_seconds()
        return int(seconds // 86400) if seconds >= 0 else -int(-seconds // 86400)

    @property
    def direction(self) -> str:
        return "later" if self.slip_days >= 0 else "earlier"


def sentence_at(text: str, span: tuple[int, int]) -> str:
    """The sentence of `text` holding `span` (cut at . ! ? … followed by a space, or a line break)."""
    start, end = 0, len(text)
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.end() <= span[0]:
            start = boundary.end()
        elif boundary.start() >= span[1]:
            end = boundary.start()
            break
    sentence = " ".join(text[start:end].split())
    return sentence if len(sentence) <= MAX_SENTENCE else sentence[: MAX_SENTENCE - 1] + "…"


def _published_day(published: datetime | date) -> date:
    if isinstance(published, datetime):
        return (published if published.tzinfo else published.replace(tzinfo=UTC)).astimezone(UTC).date()
    return published


def _target(m: MilestoneDef, about: About) -> tuple[str, Window]:
    s = m.schedule
    if m.when is not None or not s.is_span:
        return "when", s.opens
    return ("starts", s.opens) if about is About.START else ("ends", s.closes)


def _value(mention: Mention, field: str) -> str:
    """The one period to write: the mention's own, or for a range the end `field` speaks of."""
    if mention.first == mention.last:
        return mention.first.text
    return mention.first.text if field == "starts" else mention.last.text


def _candidate(m: MilestoneDef, stated: Stated, day: date) -> Proposed | None:
    mention = stated.mention
    if mention.end.date() <= day:
        return None
    field, current = _target(m, mention.about)
    if mention.overlaps(current):
        return None
    try:
        proposed = parse_window(_value(mention, field), m.timezone)
    except ValueError:
        return None
    s = m.schedule
    if field == "ends" and proposed.end <= s.opens.start:
        return None
    if field == "starts" and proposed.start >= s.closes.end:
        return None
    return Proposed(m.id, field, current, proposed, stated)


def propose(m: MilestoneDef, stated: Sequence[Stated], published: datetime | date) -> Proposed | None:
    """The change of `m`'s dates that the dates `stated` by one item call for, or None (no date, or
    every date inside the milestone's window or in the past). See the module's docstring."""
    if not m.active:
        return None
    day = _published_day(published)
    found = [p for s in stated if (p := _candidate(m, s, day)) is not None]
    if not found:
        return None
    said = [p for p in found if p.stated.mention.about is not About.UNSPECIFIED]
    return (said or found)[-1]


__all__ = ["Proposed", "Stated", "propose", "sentence_at"]
