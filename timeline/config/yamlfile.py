"""Config files as documents with line numbers, and their problems as `file:line: field: message`.

Every config loader goes through here: `read_document` turns the bytes of a file (read once, see
`timeline.config.files`) into plain values and their nodes (`timeline.config.yamldoc`), and
`Findings` collects the problems of one file, each at the line where the user has to look.
`Findings.validate` checks one part (a milestone, a feed) against its pydantic model and, when the
part is broken, still returns what the rest of it says (the broken fields left out), so that the
checks that need a whole milestone (dates in their zone, unique ids) run in the same pass: a file is
reported in full at once, never in rounds.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from timeline.config.files import FileRead, read_file
from timeline.config.yamldoc import Document, Loc, field_path, node_at, parse_document
from timeline.errors import ConfigError, Problem

Model = TypeVar("Model", bound=BaseModel)
PLACEHOLDER = "-"
"""Stands in for a required field that is missing or broken, so that the rest can still be checked."""

__all__ = ["Findings", "field_path", "line_of", "load_model", "read_document"]


def findings_of(read: FileRead) -> Findings:
    """Findings on the document in `read`; ConfigError when it cannot be read or parsed at all."""
    return Findings(read_document(read))


def read_document(read: FileRead, *, missing: str | None = None) -> Document:
    """The document in `read`; ConfigError when it is absent (with `missing` as the advice), cannot
    be read, or is not YAML."""
    if read.problem is not None:
        raise ConfigError([read.problem])
    if read.data is None:
        advice = missing or "create it, or run `timeline init` to write a starter folder"
        raise ConfigError([Problem(read.path, None, "", f"file not found; {advice}")])
    return parse_document(read.data, read.path)


def line_of(root: Any, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the item at `loc` (the deepest part of it that exists in the file)."""
    if isinstance(root, Document):
        root = root.root
    if root is None:
        return None
    nodes = node_at(root, loc)
    node = nodes[-1] if nodes else root
    return int(node.start_mark.line) + 1


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names allowed at `loc` (for "unknown field" hints)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            args = [a for a in typing.get_args(current) if a is not type(None)]
            current = args[0] if args else current
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return []
        current = current.model_fields[part].annotation
        while typing.get_origin(current) in (typing.Union, types.UnionType):
            current = next(a for a in typing.get_args(current) if a is not type(None))
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + "…" + text[-10:]


def _message(model: type[BaseModel], error: Any) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        allowed = ", ".join(_fields_at(model, loc[:-1]))
        return f"unknown field {str(loc[-1])!r}" + (f"; allowed fields: {allowed}" if allowed else "")
    if kind == "missing":
        return "required field is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{message} (got {_shown(error.get('input'))})"


class Findings:
    """The problems of one config file, in the order found."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.path = document.path
        self.problems: list[Problem] = [problem for _, problem in document.problems]
        self._refused: list[Loc] = [loc for loc, _ in document.problems]

    def line(self, loc: Sequence[int | str]) -> int | None:
        return line_of(self.document.root, loc)

    def add(self, loc: Sequence[int | str], message: str) -> None:
        """A problem at `loc`, unless a value there was already refused while reading the file."""
        loc = tuple(loc)
        if any(loc[: len(refused)] == refused for refused in self._refused):
            return
        self.problems.append(Problem(self.path, self.line(loc), field_path(loc), message))

    def add_validation(self, exc: ValidationError, model: type[BaseModel], prefix: Loc = ()) -> None:
        for error in exc.errors():
            self.add((*prefix, *error["loc"]), _message(model, error))

    def validate(self, model: type[Model], data: Any, loc: Loc = ()) -> tuple[Model | None, frozenset[str]]:
        """`data` as `model`, and the names of its broken fields (reported here). When fields are
        broken, the model holds the others (defaults for the broken, PLACEHOLDER for the required)."""
        try:
            return model.model_validate(data), frozenset()
        except ValidationError as exc:
            errors = exc.errors()
            self.add_validation(exc, model, loc)
        if not isinstance(data, dict) or any(not error["loc"] for error in errors):
            return None, frozenset()
        bad = {str(error["loc"][0]) for error in errors}
        cleaned = {key: value for key, value in data.items() if str(key) not in bad}
        for name, info in model.model_fields.items():
            if info.is_required() and name not in cleaned:
                cleaned[name] = PLACEHOLDER
                bad.add(name)
        try:
            return model.model_validate(cleaned), frozenset(bad)
        except ValidationError:
            return None, frozenset(bad)

    def top(self, example: str) -> dict[Any, Any] | None:
        """The mapping at the top of the file; None (and a problem) when the file is empty or holds
        something else. `example` is what to write for "nothing" (`milestones: []`)."""
        data = self.document.data
        if isinstance(data, dict):
            return data
        if data is None:
            self.problems.append(
                Problem(
                    self.path,
                    1,
                    "",
                    f"the file is empty; write `{example}` to mean none (an empty file is what a "
                    "half-finished save looks like, so it is never applied)",
                )
            )
            return None
        self.problems.append(Problem(self.path, self.line(()) or 1, "", "expected a mapping at the top of the file"))
        return None

    def items(self, top: dict[Any, Any], key: str) -> list[Any]:
        """The list under `key` (absent: empty); a problem when it is something else."""
        value = top.get(key, [])
        if isinstance(value, list):
            return value
        self.add((key,), f"Input should be a valid list (got {_shown(value)})")
        return []

    def entries(self, top: dict[Any, Any], key: str, model: type[Model]) -> list[tuple[int, Model, frozenset[str]]]:
        """Each item of the list under `key`, validated as `model` (problems reported): (its index,
        what it says, the names of its broken fields). Items beyond salvage are left out."""
        found = []
        for index, item in enumerate(self.items(top, key)):
            value, bad = self.validate(model, item, (key, index))
            if value is not None:
                found.append((index, value, bad))
        return found

    def unknown_keys(self, top: dict[Any, Any], allowed: Sequence[str]) -> None:
        for key in top:
            if key not in allowed:
                self.add((key,), f"unknown field {str(key)!r}; allowed fields: {', '.join(allowed)}")

    def in_order(self) -> tuple[Problem, ...]:
        """The problems found, in the order of their lines."""
        return tuple(sorted(self.problems, key=lambda p: (p.line is None, p.line or 0)))

    def raise_if_any(self) -> None:
        """ConfigError with the problems found, in the order of their lines."""
        if self.problems:
            raise ConfigError(list(self.in_order()))


def load_model(path: Path, model: type[Model]) -> tuple[Model, Document]:
    """Read `path` and validate all of it as `model` (no salvage); ConfigError lists the problems."""
    document = read_document(read_file(path))
    findings = Findings(document)
    data = document.data if document.data is not None else {}
    if not isinstance(data, dict):
        findings.top("{}")
        findings.raise_if_any()
    parsed, _ = findings.validate(model, data)
    findings.raise_if_any()
    assert parsed is not None
    return parsed, document
