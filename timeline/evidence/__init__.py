"""Dates stated in news text, read as windows.

`find_dates(text, published=..., lang=...)` returns each date expression of `text` as a `Mention`:
the phrase as written and its character span, the window `[start, end)` it names (aware UTC, in the
vocabulary of milestones.yaml: a year, half, quarter, month or day, or a span between two of them),
and what the phrase is about (`About.START` for "construction begins in 2025", `About.END` for "wrap
up by the end of 2027"). Relative phrases ("l'an prochain", "next July", "le 3 juillet") are placed
against the publication date. Amounts, counts, units, versions and model names are never dates.

Pure: no I/O, no clock; it never raises on any text. The pieces: `text` (folding, tokens),
`periods` (the calendar periods), `grammar` (parts, connectors, ranges), `guards` (numbers that are
not dates), `resolve` (windows, relative dates), `aspect` (start or end), `language` (detection),
`vocab` (one module per language).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from timeline.dates import Schedule, Window, parse_window, utc_text
from timeline.evidence.aspect import About, Context
from timeline.evidence.grammar import Link, Phrase, read_phrases
from timeline.evidence.language import detect_language, normalise_language
from timeline.evidence.periods import Reader, Spec
from timeline.evidence.resolve import Labels, resolve, resolve_pair
from timeline.evidence.text import fold, tokenize
from timeline.evidence.vocab import LANGUAGES, vocabulary

MAX_TEXT = 1_000_000  # characters read of one text; news items are far shorter


@dataclass(frozen=True)
class Mention:
    """One date phrase of a text: `text` is `source[span[0]:span[1]]`; the window is `[start, end)`
    from the start of `first` to the end of `last` (the same window for a single period)."""

    text: str
    span: tuple[int, int]
    first: Window
    last: Window
    about: About

    @property
    def start(self) -> datetime:
        return self.first.start

    @property
    def end(self) -> datetime:
        return self.last.end

    @property
    def when(self) -> str:
        """The window in milestones.yaml words: "2027-H2", or "2027-06..2027-08" for a span."""
        return self.first.text if self.first == self.last else f"{self.first.text}..{self.last.text}"

    @property
    def schedule(self) -> Schedule:
        """As a milestone's dates: `when` for one period, `starts`/`ends` for a span."""
        return Schedule(self.first, self.last)

    def overlaps(self, window: Window) -> bool:
        return self.start < window.end and window.start < self.end

    def as_json(self) -> dict[str, str]:
        """{"text", "start", "end"}, the window in UTC ISO 8601 with Z (the `timeline dates` output)."""
        return {"text": self.text, "start": utc_text(self.start), "end": utc_text(self.end)}


def _published_day(published: datetime | date) -> date:
    if isinstance(published, datetime):
        return (published if published.tzinfo else published.replace(tzinfo=UTC)).astimezone(UTC).date()
    return published


def find_dates(text: str, *, published: datetime | date, lang: str | None = None) -> list[Mention]:
    """Every date phrase of `text`, in order. `lang` is fr, en, de or es (a tag like "fr-FR" is
    understood); None, or a language not read here, detects it from the text."""
    if not isinstance(text, str) or not isinstance(published, date):
        return []
    text = text[:MAX_TEXT]
    code = normalise_language(lang) or detect_language(text) or "any"
    vocab = vocabulary(code)
    folded = fold(text)
    context = Context(text, folded, vocab)
    reader = Reader(tokenize(folded), text, vocab, context.sentences)
    day = _published_day(published)
    phrases = read_phrases(reader)
    spans = [(reader.tokens[p.start].start, reader.tokens[p.end - 1].end) for p in phrases]
    found: list[Mention] = []
    for k, (phrase, span) in enumerate(zip(phrases, spans, strict=True)):
        clause = (spans[k - 1][1] if k else 0, spans[k + 1][0] if k + 1 < len(spans) else len(text))
        found.extend(_mentions(phrase, span, clause, reader, day, context, spans))
    return found


def _mentions(
    phrase: Phrase,
    span: tuple[int, int],
    clause: tuple[int, int],
    reader: Reader,
    day: date,
    context: Context,
    spans: list[tuple[int, int]],
) -> list[Mention]:
    text = reader.original
    future = context.future(span, clause)
    if phrase.last is None:
        single = resolve(phrase.first, day, future)
        pair = (single, single) if single is not None else None
    else:
        pair = resolve_pair(phrase.first, phrase.last, day, future)
    if pair is None:
        return []
    if phrase.link is Link.RANGE and phrase.ends is not None and context.moved(span[0]):
        # "pushed from Q4 2026 to spring 2027" names two dates, not the range between them
        out = []
        for (a, b), labels in zip(phrase.ends, pair, strict=True):
            part = (reader.tokens[a].start, reader.tokens[b - 1].end)
            windows = _windows(labels)
            if windows is not None:
                out.append(Mention(text[part[0] : part[1]], part, *windows, context.about(part, spans)))
        return out
    labels = (pair[0][0], pair[1][1])
    about = {Link.UNTIL: About.END, Link.SINCE: About.START, Link.BEFORE: About.END}.get(phrase.link)
    if phrase.link is Link.BEFORE:
        if context.negated(span[0]):
            about = None  # "ne commencera pas avant 2028": 2028, about what the verb says
        else:
            labels = _before(labels, day, phrase.first)
    windows = _windows(labels)
    if windows is None or windows[1].end <= windows[0].start:
        return []
    if about is None:
        about = About.UNSPECIFIED if phrase.link is Link.RANGE else context.about(span, spans)
    return [Mention(text[span[0] : span[1]], span, windows[0], windows[1], about)]


def _before(labels: Labels, day: date, spec: Spec) -> Labels:
    """ "avant 2027": from the publication day to the day before; "before the end of 2027" is a
    deadline (the end of 2027 itself), and so is a date already past at publication."""
    if spec.part is not None:
        return labels
    start = parse_window(labels[0]).start.date()
    if start <= day:
        return labels
    return day.isoformat(), (start - timedelta(days=1)).isoformat()


def _windows(labels: Labels) -> tuple[Window, Window] | None:
    try:
        return parse_window(labels[0]), parse_window(labels[1])
    except ValueError:
        return None


__all__ = ["LANGUAGES", "About", "Mention", "detect_language", "find_dates"]
