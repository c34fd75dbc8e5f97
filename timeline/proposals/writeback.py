"""Writing an accepted window back into milestones.yaml, changing that one value and nothing else.

The file is read round trip with ruamel.yaml, which locates the value (line and column) and checks
that it still says what the proposal was made against. The new value takes the place of the old
one's characters on that line, in the same quoting, so that everything else stays byte for byte:
comments and their spacing, order, indentation, line endings (a dump by ruamel.yaml would re-indent
or re-align what it does not keep). The new text is read round trip again and must say what the old
one said but for that value, and must load as a milestones file. It replaces the file atomically (a
temporary file in the same folder, the file's mode, `os.replace`), and only if the file still has
the bytes the proposal was made against (`fingerprint`): an edit made since is never overwritten.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from timeline.config.files import FileRead
from timeline.config.milestones import parse_milestones
from timeline.errors import ConfigError, ConflictError

_PLAIN_SCALAR = re.compile(r"""'(?:[^']|'')*'|"(?:[^"\\]|\\.)*"|[^\s#,\]}][^#\n\r]*?(?=\s+#|\s*$|\s*[,\]}])""")
GIT_TIMEOUT = 20.0


class WriteBackError(ConflictError):
    """The file cannot take the accepted value: changed since, or not what the proposal was made on."""


@dataclass(frozen=True)
class Written:
    """What was written: the file, the 1-based line, the line before and after."""

    path: Path
    line: int
    before: str
    after: str


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    return yaml


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entry(doc: Any, path: Path, milestone_id: str, field: str) -> Any:
    entries = doc.get("milestones") if hasattr(doc, "get") else None
    for index, item in enumerate(entries or []):
        if hasattr(item, "get") and _text(item.get("id")) == milestone_id:
            if field not in item:
                line = item.lc.line + 1
                raise WriteBackError(
                    f"{path}:{line}: milestones[{index}] has no `{field}:` any more; edit it by hand or "
                    "reject the proposal"
                )
            return item
    raise WriteBackError(f"{path}: milestone {milestone_id!r} is no longer in the file; reject the proposal")


def _splice(text: str, line: int, column: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    source = lines[line]
    found = _PLAIN_SCALAR.match(source, column)
    if found is None:
        raise WriteBackError(f"line {line + 1}: the value could not be located; edit it by hand")
    quote = found.group(0)[0] if found.group(0)[:1] in "'\"" else ""
    lines[line] = source[: found.start()] + f"{quote}{new}{quote}" + source[found.end() :]
    return "".join(lines)


def _changed_lines(old: str, new: str) -> list[int]:
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    if len(a) != len(b):
        return [-1]
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return _text(value) if isinstance(value, dt.date) else value


def edited_text(text: str, path: Path, milestone_id: str, field: str, expected: str, new: str) -> tuple[str, int]:
    """`text` with `field` of `milestone_id` set to `new` (it must say `expected`), and the 0-based
    line changed. WriteBackError when the file does not say what the proposal was made on."""
    yaml = _yaml()
    try:
        doc = yaml.load(text)
    except YAMLError as exc:
        raise WriteBackError(f"{path}: not readable YAML ({exc}); fix it, then accept again") from None
    item = _entry(doc, path, milestone_id, field)
    line, column = item.lc.value(field)
    if _text(item[field]) != expected:
        raise WriteBackError(
            f"{path}:{line + 1}: {field} of {milestone_id} is now {_text(item[field])!r}, not {expected!r} as "
            "when the proposal was made; reject it, or edit the file by hand"
        )
    wanted, old_value = _plain(doc), item[field]
    result = _splice(text, line, column, new)
    again = _yaml().load(result)
    target = _entry(again, path, milestone_id, field)
    if _text(target[field]) != new or _changed_lines(text, result) != [line]:
        raise WriteBackError(f"{path}:{line + 1}: the new value could not be written alone; edit it by hand")
    target[field] = old_value
    if _plain(again) != wanted:
        raise WriteBackError(f"{path}:{line + 1}: writing the value would change more; edit it by hand")
    return result, line


def _check_loads(path: Path, data: bytes) -> None:
    try:
        parsed = parse_milestones(FileRead(path, data))
    except ConfigError as exc:
        raise WriteBackError(f"the file would not load after the change ({exc}); nothing was written") from None
    if parsed.problems:
        first = parsed.problems[0]
        raise WriteBackError(f"the file would not load after the change ({first}); nothing was written")


def _replace(path: Path, data: bytes, original: bytes) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(name).chmod(mode)
        if path.read_bytes() != original:
            raise WriteBackError(f"{path} changed while the proposal was being written; accept it again")
        Path(name).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(name).unlink()
        raise


def write_back(
    path: Path, milestone_id: str, field: str, expected: str, new: str, *, fingerprint_then: str | None
) -> Written:
    """Set `field` of `milestone_id` in the milestones file `path` from `expected` to `new`."""
    try:
        original = path.read_bytes()
    except OSError as exc:
        raise WriteBackError(f"{path}: cannot be read ({exc.strerror or exc}); nothing was written") from None
    if fingerprint_then is not None and fingerprint(original) != fingerprint_then:
        raise WriteBackError(
            f"{path} changed since this proposal was made; nothing was written. Check that {field} of "
            f"{milestone_id} still says {expected}, then edit it by hand or reject the proposal"
        )
    try:
        text = original.decode("utf-8")
    except UnicodeDecodeError:
        raise WriteBackError(f"{path}: not UTF-8; nothing was written") from None
    result, line = edited_text(text, path, milestone_id, field, expected, new)
    data = result.encode("utf-8")
    _check_loads(path, data)
    _replace(path, data, original)
    return Written(path, line + 1, text.splitlines()[line], result.splitlines()[line])


def git_commit(path: Path, message: str) -> str:
    """Commit `path` alone in its git work tree; what happened, in words (never raises)."""
    folder = path.parent

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT, check=False
        )

    try:
        inside = run("rev-parse", "--is-inside-work-tree")
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return f"not committed: {folder} is not a git work tree"
        added = run("add", "--", path.name)
        done = run("commit", "-m", message, "--", path.name) if added.returncode == 0 else added
    except (OSError, subprocess.SubprocessError) as exc:
        return f"not committed: git could not run ({exc})"
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        return f"not committed: {reason[-1] if reason else 'git failed'}"
    return f"committed in {folder}"
