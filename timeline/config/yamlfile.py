"""YAML with line numbers, and pydantic errors turned into `file:line: field: message` problems.

Every config loader goes through `load_model`: it parses the file with ruamel.yaml (which keeps the
line of every key and item), validates it with a pydantic model, and reports each problem where the
user has to look.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from timeline.errors import ConfigError, Problem

Model = TypeVar("Model", bound=BaseModel)
Loc = Sequence[int | str]


class _Constructor(RoundTripConstructor):
    """Dates stay the text the user wrote: `2025-09-15` is parsed by `timeline.dates`, in its zone."""


_Constructor.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda constructor, node: constructor.construct_scalar(node),
)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml(path: Path) -> Any:
    """Parse `path`; ConfigError with the line of a syntax error or a duplicate key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(path, None, "", "file not found; create it (see config/ in the repository)")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(path, None, "", f"cannot be read: {exc}")]) from None
    try:
        return _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ConfigError([Problem(path, line, "", f"YAML syntax: {message}")]) from None
    except YAMLError as exc:
        raise ConfigError([Problem(path, None, "", f"YAML syntax: {exc}")]) from None


def line_of(data: Any, loc: Loc) -> int | None:
    """The 1-based line of the item at `loc` in parsed YAML (the deepest one that has a line)."""
    line: int | None = _own_line(data)
    node = data
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _own_line(node: Any) -> int | None:
    return node.lc.line + 1 if isinstance(node, CommentedMap | CommentedSeq) else None


def field_path(loc: Loc) -> str:
    """`("milestones", 2, "when")` -> `milestones[2].when`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


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


def _message(model: type[BaseModel], error: Any) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        allowed = ", ".join(_fields_at(model, loc[:-1]))
        return f"unknown field {loc[-1]!r}" + (f"; allowed fields: {allowed}" if allowed else "")
    if kind == "missing":
        return "required field is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{message} (got {error.get('input')!r})"


def problems_from(exc: ValidationError, model: type[BaseModel], data: Any, path: Path) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = error["loc"]
        problems.append(Problem(path, line_of(data, loc), field_path(loc), _message(model, error)))
    return problems


def load_model(path: Path, model: type[Model], *, empty: Any = None) -> tuple[Model, Any]:
    """Read and validate `path` as `model`. Returns the model and the raw YAML (for line look-ups)."""
    data = read_yaml(path)
    if data is None:
        data = CommentedMap() if empty is None else empty
    if not isinstance(data, CommentedMap):
        raise ConfigError([Problem(path, _own_line(data) or 1, "", "expected a mapping at the top of the file")])
    try:
        return model.model_validate(data), data
    except ValidationError as exc:
        raise ConfigError(problems_from(exc, model, data, path)) from None
