"""A feed's match rule as feeds.yaml states it: `any`, `all`, `none` terms and an optional `regex`.

The schema of the rule lives here, beside the rest of feeds.yaml's, so that `timeline.config`
imports nothing of `timeline.feeds`; `timeline.feeds.match` compiles and runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from timeline.words import fold

TERM_TOKEN = re.compile(r"[\w*]+")
"""A word of a term, with its optional trailing wildcard."""


@dataclass(frozen=True)
class Rule:
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    regex: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"any": list(self.any), "all": list(self.all), "none": list(self.none), "regex": self.regex}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Rule | None:
        if data is None:
            return None
        return cls(
            any=tuple(data.get("any") or ()),
            all=tuple(data.get("all") or ()),
            none=tuple(data.get("none") or ()),
            regex=data.get("regex"),
        )


def term_problem(term: str) -> str | None:
    """Why `term` cannot be a rule term, or None."""
    tokens = TERM_TOKEN.findall(fold(term))
    if not tokens:
        return f"{term!r} has no letters or digits to match"
    for token in tokens:
        if "*" in token[:-1]:
            return f"{term!r}: the wildcard * goes at the end of a word, like centre*"
        if token == "*":
            return f"{term!r}: a lone * would match any word; remove it or give a word prefix"
    return None
