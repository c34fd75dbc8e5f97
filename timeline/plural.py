"""Counts with their noun, as a person writes them: `1 feed`, `2 feeds`, `1 delivery`, `0 deliveries`."""

from __future__ import annotations

_VOWELS = frozenset("aeiou")


def plural(count: int, singular: str, many: str | None = None) -> str:
    """`count` and the noun in the number it takes. `many` is the plural when it is irregular;
    otherwise it is made by the English rules for regular nouns (feed → feeds, delivery →
    deliveries, match → matches)."""
    return f"{count} {singular if count == 1 else (many or _regular(singular))}"


def _regular(word: str) -> str:
    if word.endswith("y") and len(word) > 1 and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"
