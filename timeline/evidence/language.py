"""Which language a text is in, when no feed or item says: a stop-word scorer.

Each frequent word of a language, and each word of its dates, scores for it, less when other
languages share it ("de" is French and Spanish, "in" English and German); letters that mostly one
language writes (è, ñ, ß) break ties. The language with the highest score wins; a text with no such
word (a title like "Q3 2027") has no language, and is read with every vocabulary at once.
Its accuracy on the labelled sentences is measured in tests/evidence and reported in the README.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

from timeline.evidence.text import fold, tokenize
from timeline.evidence.vocab import LANGUAGES, vocabulary

# Letters that mostly one language writes: they break the ties of shared words ("en", "la", "de").
_LETTERS: dict[str, tuple[tuple[str, float], ...]] = {
    **dict.fromkeys("èêàçùâîôœ", (("fr", 0.3),)),
    "é": (("fr", 0.1),),
    **dict.fromkeys("ñáíóú¿¡", (("es", 0.3),)),
    **dict.fromkeys("äöüß", (("de", 0.3),)),
}


@cache
def _weights() -> dict[str, dict[str, float]]:
    """Each language's frequent words and the words of its dates ("septembre", "prochain", "bis"),
    weighted 1 / the number of languages sharing the word. Digits and one-letter words say nothing."""
    words = {code: {w for w in vocabulary(code).known if len(w) > 1 and w.isalpha()} for code in LANGUAGES}
    shared = Counter(word for group in words.values() for word in group)
    return {code: {word: 1 / shared[word] for word in group} for code, group in words.items()}


def detect_language(text: str) -> str | None:
    """fr, en, de or es; None when the text holds too few words of any to tell."""
    if not isinstance(text, str):
        return None
    weights = _weights()
    scores = dict.fromkeys(LANGUAGES, 0.0)
    sample = text[:20_000]
    for token in tokenize(fold(sample)):
        for code in LANGUAGES:
            scores[code] += weights[code].get(token.text, 0.0)
    for char in sample.lower():
        for code, weight in _LETTERS.get(char, ()):
            scores[code] += weight
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
