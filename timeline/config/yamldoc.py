"""YAML documents with line numbers, read through PyYAML's C composer and turned into plain values.

`parse_document` composes the text into nodes with libyaml (PyYAML's `CParser`; its pure-Python
parser when libyaml is missing), then builds plain Python values from the nodes itself, so that
every value a user wrote keeps its line (`line_of`) and nothing outside the limits is ever built:

- scalars follow YAML 1.2 (what ruamel.yaml read before): `yes`, `no`, `on` and `off` are text,
  `0o17` is an octal integer, and dates stay the text the user wrote (`timeline.dates` parses them
  in their zone);
- integers must fit in 64 bits and floats must be finite (a 5,000-digit integer is refused, not
  handed to `int()`);
- strings may not hold NUL or lone surrogates (no database stores them);
- values are nested at most `MAX_DEPTH` levels deep;
- aliases (`*name`) may add at most `alias_budget(size)` values to the document: a 3 KB alias bomb
  that would expand into a billion values is refused at its line, before it is expanded;
- a key appears once in a mapping; `<<: *defaults` merges a mapping in (explicit keys win).

The composer is given a resolver of our own that only says how a scalar was written (plain or
quoted) and leaves explicit tags (`!!str 2025`) as written: typing scalars is done here, once.
Problems in single values are collected (the document is still built, so validation can report the
rest in the same pass); limits stop the file at once. Either way every problem has its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from timeline.config.yamlvalues import (
    BAD_ESCAPE,
    MAP,
    MAX_DEPTH,
    MERGE,
    PLAIN,
    QUOTED,
    SEQ,
    Builder,
    Limit,
    Loc,
    field_path,
    too_deep,
)
from timeline.errors import ConfigError, Problem

__all__ = ["MAX_DEPTH", "Document", "Loc", "alias_budget", "field_path", "node_at", "parse_document"]


class _Resolver:
    """Tags for the composer: how each node was written, nothing more (see the module's doc)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return PLAIN if implicit[0] else QUOTED
        return SEQ if kind is SequenceNode else MAP

    def descend_resolver(self, parent: Any, index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


class _PureLoader(Reader, Scanner, Parser, Composer, _Resolver):
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)


try:
    from yaml._yaml import CParser

    class _CLoader(CParser, _Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)

    _Loader: Any = _CLoader
except ImportError:  # PyYAML built without libyaml: the same nodes, more slowly
    _Loader = _PureLoader


def alias_budget(size: int) -> int:
    """How many values aliases may add to a document of `size` bytes (at least 10,000)."""
    return max(10_000, size // 10)


@dataclass
class Document:
    """A parsed file: its plain values, the node tree (for lines) and the problems found in values."""

    path: Path
    data: Any
    root: Node | None
    problems: list[tuple[Loc, Problem]] = field(default_factory=list)


def parse_document(data: bytes, path: Path, *, loader: Any = None) -> Document:
    """Compose and build `data`; ConfigError (with the line) for bad UTF-8, YAML syntax or a limit.
    `loader` is for tests of the pure-Python path."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            [Problem(path, line, "", f"is not UTF-8 text (byte {data[exc.start]:#04x}); save the file as UTF-8")]
        ) from None
    if not text.strip():
        return Document(path, None, None)  # whitespace only (tabs included): an empty document
    root = _compose(text, path, loader or _Loader)
    builder = Builder(path, alias_budget(len(data)), check_text=BAD_ESCAPE.search(text) is not None)
    try:
        value = builder.build(root) if root is not None else None
    except Limit as exc:
        raise ConfigError([Problem(path, exc.line, field_path(exc.loc), exc.message)]) from None
    return Document(path, value, root, builder.problems)


def _compose(text: str, path: Path, loader: Any) -> Node | None:
    try:
        node: Node | None = yaml.compose(text, Loader=loader)
        return node
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_syntax_problem(exc, text, path)]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError([Problem(path, line, "", f"YAML syntax: {_reader_reason(exc)}")]) from None
    except RecursionError:  # the pure-Python composer recurses; libyaml stops at 1,000 levels itself
        raise ConfigError([Problem(path, _deep_line(text), "", too_deep())]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(path, None, "", f"YAML syntax: {exc}")]) from None


def _reader_reason(exc: Any) -> str:
    character = exc.character
    if isinstance(character, int):
        return f"character #x{character:04x} is not allowed in YAML; remove it"
    return str(exc.reason)


def _syntax_problem(exc: yaml.MarkedYAMLError, text: str, path: Path) -> Problem:
    """The line of the fault: where the problem was found, unless that is the end of the text (an
    unclosed `[` or quote), where the line that opened what was left unclosed is the fault."""
    mark = exc.problem_mark
    if mark is None or (mark.index >= len(text.rstrip()) and exc.context_mark is not None):
        mark = exc.context_mark or mark
    lines = max(1, len(text.rstrip("\n").split("\n")))
    line = min(mark.line + 1, lines) if mark is not None else None
    if "maximum nesting depth" in str(exc.problem or ""):
        return Problem(path, line, "", too_deep())
    message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
    return Problem(path, line, "", f"YAML syntax: {message}")


def _deep_line(text: str) -> int | None:
    """The line where nesting passes MAX_DEPTH, found from the events (which do not recurse)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH and event.start_mark is not None:
                    return int(event.start_mark.line) + 1
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def node_at(root: Node | None, loc: Sequence[int | str]) -> list[Node]:
    """The nodes along `loc` from `root` (keys for mapping parts, items for list parts), as far as
    they go."""
    path: list[Node] = []
    node = root
    for part in loc:
        if isinstance(node, MappingNode):
            wanted = str(part)
            found = next(
                (
                    (k, v)
                    for k, v in node.value
                    if isinstance(k, ScalarNode) and k.value == wanted and not (k.tag == PLAIN and k.value == MERGE)
                ),
                None,
            )
            if found is None:
                break
            path.append(found[0])
            node = found[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            path.append(node)
        else:
            break
    return path
