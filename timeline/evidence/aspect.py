"""What a date is about, read from the words of its sentence: when something starts ("construction
begins", "débuteront", "Baubeginn", "comenzará") or when it is finished ("wrap up", "achèvement",
"Fertigstellung", "finalización"); whether the sentence speaks of the future; whether it moves a date
("pushed from X to Y": two dates, not a range); whether "avant 2027" is negated ("pas avant 2027").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from enum import StrEnum

from timeline.evidence.text import Sentences
from timeline.evidence.vocab import Compiled


class About(StrEnum):
    """What a date phrase says of its subject."""

    START = "start"  # when it begins
    END = "end"  # when it is completed, delivered, opened: the deadline
    UNSPECIFIED = "unspecified"


class Context:
    """The sentences of one text, with the cues of one vocabulary found once."""

    def __init__(self, original: str, folded: str, vocab: Compiled) -> None:
        self.folded = folded
        self.sentences = Sentences(folded)
        self.vocab = vocab
        lowered = original.lower()
        self._lowered = lowered if len(lowered) == len(original) else folded
        cues = [(m.start(), m.end(), About.START) for m in vocab.cues["start_cues"].finditer(folded)]
        cues += [(m.start(), m.end(), About.END) for m in vocab.cues["end_cues"].finditer(folded)]
        self._cues = sorted(cues)
        self._cue_starts = [start for start, _, _ in self._cues]

    def _before(self, start: int) -> str:
        first, _ = self.sentences.around(start, start)
        return self.folded[first:start]

    def future(self, span: tuple[int, int], clause: tuple[int, int]) -> bool:
        """True when the clause of `span` speaks of the future: its sentence, cut at the commas and
        at the dates before and after it ("announced in July, is expected to close in the fourth quarter")."""
        first, last = self.sentences.around(*span)
        first = max(first, clause[0], self.folded.rfind(",", first, span[0]) + 1)
        comma = self.folded.find(",", span[1], last)
        last = min(last, clause[1], comma if comma >= 0 else last)
        return self.vocab.cues["future_cues"].search(self._lowered, first, last) is not None

    def moved(self, start: int) -> bool:
        """True when the sentence moves a date before `start`: "repoussé de 2027 à 2028"."""
        return self.vocab.cues["move_verbs"].search(self._before(start)) is not None

    def negated(self, start: int) -> bool:
        """True when the words just before `start` deny it: "ne sera pas achevée avant 2027"."""
        before = self._before(start)[-60:]
        return self.vocab.cues["negations"].search(before) is not None

    def about(self, span: tuple[int, int], others: Sequence[tuple[int, int]]) -> About:
        """The nearest start or end cue in the sentence of `span` that no other date stands between.
        `others` are the spans of every date of the text, in order."""
        first, last = self.sentences.around(*span)
        near = others[bisect_left(others, (first, -1)) : bisect_left(others, (last, -1))]  # this sentence's dates
        best: tuple[int, About] | None = None
        for start, end, kind in self._cues[bisect_left(self._cue_starts, first) : bisect_left(self._cue_starts, last)]:
            if end > last or _inside((start, end), near):
                continue
            between = (end, span[0]) if end <= span[0] else (span[1], start)
            if between[0] > between[1] or _crosses(between, span, near):
                continue
            # A cue after the date counts double: it more often belongs to the next date
            # ("attendus en janvier 2027 pour une ouverture à l'automne 2029").
            distance = (between[1] - between[0]) * (1 if end <= span[0] else 2)
            if best is None or distance < best[0]:
                best = distance, kind
        return best[1] if best else About.UNSPECIFIED


def _inside(cue: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(s <= cue[0] and cue[1] <= e for s, e in spans)


def _crosses(between: tuple[int, int], own: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    return any(between[0] <= s and e <= between[1] for s, e in spans if (s, e) != own)
