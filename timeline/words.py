"""Words as rules and evidence compare them: folded (lower case, no accents) and split on
everything that is not a letter, a digit or `_`. Pure, imports nothing of timeline."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case without accents: `Centre de Données` -> `centre de donnees`."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


_ASCII_NON_WORD = {c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}
"""ASCII characters that are not `\\w`, made spaces: for ASCII text, splitting on white space then
gives exactly the `\\w+` runs, faster than a regex."""


def words(text: str) -> str:
    """The folded words of `text`, separated by single spaces: what terms are searched in."""
    folded = fold(text)
    if folded.isascii():
        return " ".join(folded.translate(_ASCII_NON_WORD).split())
    return " ".join(_WORD.findall(folded))
