"""Which language a text is in, when no feed or item says: a stop-word scorer.

Each frequent word of a language scores for it, less when other languages share it ("de" is French
and Spanish, "in" English and German). The language with the highest score wins; a text with no
such word (a title like "Q3 2027") has no language, and is read with every vocabulary at once.
Its accuracy on the labelled sentences is measured in tests/evidence and reported in the README.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from timeline.evidence.text import fold, tokenize
from timeline.evidence.vocab import LANGUAGES, vocabulary


@cache
def _weights() -> dict[str, dict[str, float]]:
    words = {code: vocabulary(code).words["stop_words"] for code in LANGUAGES}
    shared = Counter(word for group in words.values() for word in group)
    return {code: {word: 1 / shared[word] for word in group} for code, group in words.items()}


def detect_language(text: str) -> str | None:
    """fr, en, de or es; None when the text holds too few words of any to tell."""
    if not isinstance(text, str):
        return None
    weights = _weights()
    scores = dict.fromkeys(LANGUAGES, 0.0)
    for token in tokenize(fold(text[:20_000])):
        for code in LANGUAGES:
            scores[code] += weights[code].get(token.text, 0.0)
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best, score = ranked[0]
    if score < 1 or score == ranked[1][1]:
        return None
    return best


def normalise_language(lang: str | None) -> str | None:
    """"fr-FR", "en_US", "DE" → fr, en, de; None for a language we do not read (or none given)."""
    if not isinstance(lang, str):
        return None
    primary = lang.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None
