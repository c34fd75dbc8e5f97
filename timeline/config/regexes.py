"""Regular expressions from feeds.yaml, refused when they can backtrack catastrophically.

Python's `re` backtracks: a pattern like `(a+)+$` tries every way of splitting a run of `a`s between
the two quantifiers, which takes seconds on 30 characters and years on 100. `backtracking_problem`
reads the parsed pattern and refuses the two shapes that cause this exponential time:

- a quantifier that can repeat a variable amount (`+`, `*`, `{2,}`) inside another such quantifier:
  `(a+)+`, `(\\w+\\s?)*`, `(x*y?)+`;
- alternatives that can start with the same character inside such a quantifier: `(a|ab)+`,
  `(\\w|\\d)*` (case ignored, as the matcher ignores it).

Possessive quantifiers (`a++`, `a*+`) and atomic groups (`(?>...)`) never backtrack, so a pattern
rewritten with them is accepted: `(\\d++\\.)+` instead of `(\\d+\\.)+`. Patterns that are slow
without being exponential (`\\w*\\w*\\w*x`, polynomial) are not refused by this rule.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

_parser: Any = importlib.import_module("re._parser")  # the parser `re` itself uses; no public API exposes it

_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT"})
_SAMPLE = "".join(chr(i) for i in range(0x250)) + "éßçñøœæ中日한ΩжД\u00a0\u2028\u3000"
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
}
_ADVICE = "make the inner part possessive (a++ instead of a+) or atomic ((?>...)), or write it without repetition"
Items = list[tuple[Any, Any]]


def backtracking_problem(pattern: str) -> str | None:
    """Why `pattern` can take exponential time on some text, or None (None too when it does not
    compile: that is reported by compiling it)."""
    try:
        items = list(_parser.parse(pattern, re.IGNORECASE))
    except Exception:
        return None
    return _walk(items, inside=False)


def _walk(items: Items, *, inside: bool) -> str | None:
    """The first problem in a parsed sequence; `inside` when it stands in a part that repeats."""
    for op, av in items:
        step = _WALKS.get(str(op))
        problem = step(av, inside) if step is not None else None
        if problem:
            return problem
    return None


def _walk_repeat(av: Any, inside: bool) -> str | None:
    low, high, body = av
    body = list(body)
    variable = high > low and high > 1
    if inside and variable and _first(body)[0] != set():
        return f"a repeated part is repeated again inside another repetition; {_ADVICE}"
    problem = _overlapping_branches(body, _first(body)[0]) if variable else None
    return problem or _walk(body, inside=inside or high > 1)


def _walk_each(branches: Any, inside: bool) -> str | None:
    return next((p for b in branches if b is not None and (p := _walk(list(b), inside=inside))), None)


_WALKS: dict[str, Callable[[Any, bool], str | None]] = {
    "MAX_REPEAT": _walk_repeat,
    "MIN_REPEAT": _walk_repeat,
    "SUBPATTERN": lambda av, inside: _walk(list(av[3]), inside=inside),
    "ATOMIC_GROUP": lambda av, _: _walk(list(av), inside=False),
    "POSSESSIVE_REPEAT": lambda av, _: _walk(list(av[2]), inside=False),
    "BRANCH": lambda av, inside: _walk_each(av[1], inside),
    "ASSERT": lambda av, _: _walk(list(av[1]), inside=False),
    "ASSERT_NOT": lambda av, _: _walk(list(av[1]), inside=False),
    "GROUPREF_EXISTS": lambda av, inside: _walk_each(av[1:], inside),
}


_AMBIGUOUS = (
    "alternatives that can match the same text are repeated, so the matcher may try every way of "
    f"combining them; make the alternatives start differently, or {_ADVICE}"
)


def _overlapping_branches(items: Items, follow: set[str] | None) -> str | None:
    """A problem when an alternation in a repeated part has two alternatives that can match the
    same next character. An alternative that can be empty starts with what follows it (`follow`:
    the rest of the part, then the part again, since it repeats)."""
    for index, (op, av) in enumerate(items):
        name = str(op)
        after, nullable = _first(items[index + 1 :])
        after = None if after is None or follow is None else (after | follow if nullable else after)
        if name == "SUBPATTERN":
            found = _overlapping_branches(list(av[3]), after)
            if found:
                return found
        elif name == "BRANCH":
            seen: set[str] = set()
            empty = False
            for branch in av[1]:
                chars, can_be_empty = _first(list(branch))
                if chars is None:
                    continue
                if can_be_empty:
                    if empty:
                        return _AMBIGUOUS
                    empty = True
                    chars = chars | (after or set())
                if chars & seen:
                    return _AMBIGUOUS
                seen |= chars
    return None


def _first(items: Items) -> tuple[set[str] | None, bool]:
    """The characters (of a sample alphabet) a sequence can start with, None when that cannot be
    told (a back-reference), and whether it can match the empty text."""
    chars: set[str] = set()
    for op, av in items:
        name = str(op)
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        if name in _REPEATS or name == "POSSESSIVE_REPEAT":
            inner, empty = _first(list(av[2]))
            optional = av[0] == 0 or empty
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            inner, optional = _first(list(av[3] if name == "SUBPATTERN" else av))
        elif name == "BRANCH":
            inner, optional = set(), False
            for branch in av[1]:
                found, empty = _first(list(branch))
                inner = None if found is None or inner is None else inner | found
                optional = optional or empty
        else:
            atom = _atom(name, av)
            inner, optional = (None if atom is None else set(_members(atom))), False
        if inner is None:
            return None, False
        chars |= inner
        if not optional:
            return chars, False
    return chars, True


def _atom(name: str, av: Any) -> str | None:
    """A one-character pattern for a parsed atom, or None for what is not one."""
    if name == "LITERAL":
        return re.escape(chr(av))
    if name == "NOT_LITERAL":
        return f"[^{re.escape(chr(av))}]"
    if name == "ANY":
        return "."
    if name != "IN":
        return None
    parts: list[str] = []
    for op, value in av:
        kind = str(op)
        if kind == "NEGATE":
            parts.insert(0, "^")
        elif kind == "LITERAL":
            parts.append(re.escape(chr(value)))
        elif kind == "RANGE":
            parts.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
        elif kind == "CATEGORY" and str(value) in _CATEGORIES:
            parts.append(_CATEGORIES[str(value)])
        else:
            return None
    return f"[{''.join(parts)}]"


@functools.lru_cache(maxsize=1024)
def _members(atom: str) -> frozenset[str]:
    compiled = re.compile(atom, re.IGNORECASE | re.DOTALL)
    return frozenset(c for c in _SAMPLE if compiled.fullmatch(c))
