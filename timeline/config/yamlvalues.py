"""Plain values built from libyaml's nodes, within the limits, each problem with its line.

The second half of `timeline.config.yamldoc` (which composes the text and describes the limits in
its docstring): scalars typed under YAML 1.2, integers in 64 bits, finite floats, no NUL or lone
surrogates, nesting at most `MAX_DEPTH`, aliases within a budget, keys once per mapping, `<<` merges.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from timeline.errors import Problem

Loc = tuple[int | str, ...]

MAX_DEPTH = 32
"""Values nested deeper than this are refused (a milestone's attributes sit at level 4)."""
INT_LIMIT = 2**63
"""Integers must lie in [-2**63, 2**63): what SQLite and PostgreSQL store as a number."""

PLAIN, QUOTED, SEQ, MAP = "?plain", "?quoted", "?seq", "?map"
_TAG = "tag:yaml.org,2002:"
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL")),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
}
_INT = re.compile(r"[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?)")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)")
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_ESCAPE = re.compile(r"\\(?:0|x00|u0000|U00000000|u[dD][89a-fA-F])")
MERGE = "<<"


class Limit(Exception):
    def __init__(self, line: int, loc: Loc, message: str) -> None:
        self.line, self.loc, self.message = line, loc, message


def too_deep() -> str:
    return f"values are nested more than {MAX_DEPTH} levels deep; flatten this part of the file"


class Builder:
    """Builds plain values from nodes, within the limits; collects the problems of single values.

    Only collections are remembered (an alias of a scalar adds one value, no more than writing it
    would): `done` maps a collection node to its value and the number of values in it."""

    def __init__(self, path: Path, budget: int, *, check_text: bool) -> None:
        self.path = path
        self.budget = budget
        self.check_text = check_text  # the text has an escape that could make NUL or a surrogate
        self.added = 0  # values added by aliases so far
        self.done: dict[int, tuple[Any, int]] = {}
        self.building: set[int] = set()
        self.plain: dict[str, Any] = {}  # plain scalars already typed (keys and values repeat)
        self.problems: list[tuple[Loc, Problem]] = []

    def problem(self, loc: Loc, line: int, message: str) -> None:
        self.problems.append((loc, Problem(self.path, line, field_path(loc), message)))

    def build(self, root: Node) -> Any:
        return self._value(root, (), 1, root.start_mark.line + 1)[0]

    def _value(self, node: Node, loc: Loc, depth: int, line: int) -> tuple[Any, int]:
        if isinstance(node, ScalarNode):
            return self._scalar(node, loc, _NO_KEY), 1
        key = id(node)
        seen = self.done.get(key)
        if seen is not None:  # an alias of a collection built before: its values count again
            self.added += seen[1]
            if self.added > self.budget:
                raise Limit(
                    line,
                    loc,
                    f"YAML aliases (*name) expand to more than {self.budget:,} values here; "
                    "write the values out, or repeat fewer of them through aliases",
                )
            return seen
        if key in self.building:
            raise Limit(line, loc, "an alias (*name) refers to the value that contains it; YAML loops are not allowed")
        if depth > MAX_DEPTH:
            raise Limit(node.start_mark.line + 1, loc[:4], too_deep())
        self.building.add(key)
        try:
            if isinstance(node, SequenceNode):
                result: tuple[Any, int] = self._sequence(node, loc, depth)
            else:
                result = self._mapping(node, loc, depth)  # type: ignore[arg-type]
        finally:
            self.building.discard(key)
        self.done[key] = result
        return result

    def _sequence(self, node: SequenceNode, loc: Loc, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        count = 1
        own_line = node.start_mark.line + 1
        for index, child in enumerate(node.value):
            if child.__class__ is ScalarNode:
                items.append(self._scalar(child, loc, index))
                count += 1
                continue
            # An alias's node is the anchored one, whose line is elsewhere: report at this list.
            line = own_line if id(child) in self.done or id(child) in self.building else child.start_mark.line + 1
            value, size = self._value(child, (*loc, index), depth + 1, line)
            items.append(value)
            count += size
        return items, count

    def _mapping(self, node: MappingNode, loc: Loc, depth: int) -> tuple[dict[Any, Any], int]:
        mapping: dict[Any, Any] = {}
        merges: list[tuple[Node, int]] = []
        count = 1
        for key_node, value_node in node.value:
            if key_node.__class__ is not ScalarNode:
                self.problem(loc, key_node.start_mark.line + 1, "a key must be a plain value, not a list or a mapping")
                continue
            if key_node.tag == PLAIN and key_node.value == MERGE:
                merges.append((value_node, key_node.start_mark.line + 1))
                continue
            key = self._scalar(key_node, loc, _NO_KEY)
            if key is _INVALID:
                continue
            if key in mapping:
                self._duplicate(node, key_node, key, loc)
                continue
            if value_node.__class__ is ScalarNode:
                mapping[key] = self._scalar(value_node, loc, key)
                count += 1
                continue
            value, size = self._value(value_node, (*loc, key), depth + 1, key_node.start_mark.line + 1)
            mapping[key] = value
            count += size
        for value_node, line in merges:
            count += self._merge(mapping, value_node, loc, depth, line)
        return mapping, count

    def _duplicate(self, node: MappingNode, key_node: ScalarNode, key: Any, loc: Loc) -> None:
        first = next(k for k, _ in node.value if k.__class__ is ScalarNode and k.value == key_node.value)
        message = f'found duplicate key "{key}" (first on line {first.start_mark.line + 1}); '
        message += "a key may appear once in a mapping"
        line = key_node.start_mark.line + 1
        self.problems.append(((*loc, key), Problem(self.path, line, "", f"YAML syntax: {message}")))

    def _merge(self, mapping: dict[Any, Any], node: Node, loc: Loc, depth: int, line: int) -> int:
        """`<<: *base` or `<<: [*a, *b]`: keys not already there come from the merged mappings."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        added = 0
        for source in sources:
            value, size = self._value(source, loc, depth, line)
            if not isinstance(value, dict):
                self.problem(loc, line, "`<<` merges mappings only; give it an alias of a mapping (<<: *name)")
                continue
            added += size
            for key, item in value.items():
                mapping.setdefault(key, item)
        return added

    def _scalar(self, node: ScalarNode, loc: Loc, key: Any) -> Any:
        """The value of a scalar at `loc` + `key` (`_NO_KEY`: the scalar is a key of `loc`)."""
        tag = node.tag
        text: str = node.value
        if tag == PLAIN:
            value = self.plain.get(text, _MISSING)
            if value is _MISSING:
                value = _typed(text)
                if value is _NOT_TYPED:
                    return self._number(text, node, _at(loc, key))
                if len(text) <= 64:
                    self.plain[text] = value
            return value  # a plain scalar has no escapes: no NUL, no surrogate
        if tag == QUOTED:
            return self._text(text, node, _at(loc, key)) if self.check_text else text
        return self._tagged(node, _at(loc, key))

    def _tagged(self, node: ScalarNode, loc: Loc) -> Any:
        """A scalar with an explicit tag (`!!int "3"`)."""
        tag, text = node.tag, node.value
        if tag in (_TAG + "str", _TAG + "timestamp"):
            return self._text(text, node, loc) if self.check_text else text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            if text in ("true", "True", "TRUE", "false", "False", "FALSE"):
                return text.lower() == "true"
            return self._refuse(node, loc, f"{_shown(text)} is not true or false")
        if tag == _TAG + "int" and _INT.fullmatch(text):
            return self._int(text, node, loc)
        if tag == _TAG + "float" and (_FLOAT.fullmatch(text) or _SPECIAL_FLOAT.fullmatch(text)):
            return self._float(text, node, loc)
        if tag in (_TAG + "int", _TAG + "float"):
            return self._refuse(node, loc, f"{_shown(text)} is not a number")
        return self._refuse(node, loc, f"the YAML tag {tag} is not supported here; remove it")

    def _number(self, text: str, node: ScalarNode, loc: Loc) -> Any:
        if _INT.fullmatch(text):
            return self._int(text, node, loc)
        return self._float(text, node, loc)

    def _text(self, text: str, node: ScalarNode, loc: Loc) -> Any:
        bad = _BAD_TEXT.search(text)
        if bad is None:
            return text
        what = "a NUL character (\\0)" if bad.group() == "\x00" else "a lone surrogate (an invalid \\u escape)"
        return self._refuse(node, loc, f"the text holds {what} at position {bad.start() + 1}; remove it")

    def _int(self, text: str, node: ScalarNode, loc: Loc) -> Any:
        clean = text.replace("_", "")
        sign = -1 if clean.startswith("-") else 1
        digits = clean.lstrip("+-")
        base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2].lower(), 10)
        digits = digits[2:] if base != 10 else digits
        if not digits:
            return self._refuse(node, loc, f"{_shown(text)} is not an integer")
        if len(digits.lstrip("0")) <= 64:
            value = sign * int(digits, base)
            if -INT_LIMIT <= value < INT_LIMIT:
                return value
        return self._refuse(
            node,
            loc,
            f"{_shown(text)} is too large; integers must lie between -{INT_LIMIT:,} and {INT_LIMIT - 1:,} "
            "(quote it to keep it as text)",
        )

    def _float(self, text: str, node: ScalarNode, loc: Loc) -> Any:
        number = text.replace("_", "")
        special = number.lstrip("+-").lower()
        value = math.nan if special in (".inf", ".nan") else float(number)
        if math.isfinite(value):
            return value
        return self._refuse(node, loc, f"{_shown(text)} is not a finite number (quote it to keep it as text)")

    def _refuse(self, node: ScalarNode, loc: Loc, message: str) -> Any:
        self.problem(loc, node.start_mark.line + 1, message)
        return _INVALID


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_INVALID: Any = _Marker("<invalid>")
_NO_KEY: Any = _Marker("<no key>")
"""A value refused while building (its problem is recorded); validation skips what holds it."""
_MISSING: Any = _Marker("<missing>")
_NOT_TYPED: Any = _Marker("<number>")


def _at(loc: Loc, key: Any) -> Loc:
    return loc if key is _NO_KEY else (*loc, key)


def _typed(text: str) -> Any:
    """A plain scalar under YAML 1.2's core schema (as ruamel.yaml reads it): null, a boolean, the
    text itself, or _NOT_TYPED for what looks like a number (typed with its limits)."""
    if text in _WORDS:
        return _WORDS[text]
    first = text[:1]
    if first.isdigit() or (first in "+-." and len(text) > 1):
        if _INT.fullmatch(text):
            return _NOT_TYPED
        if (_FLOAT.fullmatch(text) and any(c.isdigit() for c in text)) or _SPECIAL_FLOAT.fullmatch(text):
            return _NOT_TYPED
    return text


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:20] + "…" + text[-10:])


def field_path(loc: Sequence[int | str]) -> str:
    """`("milestones", 2, "when")` -> `milestones[2].when`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
