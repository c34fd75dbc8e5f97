"""Reading config files: once, whole, and only from regular files.

Every config read goes through `read_file`: it opens the path without blocking (a FIFO with no writer
would otherwise hang `check`, `sync` and the reload), refuses anything but a regular file and files
larger than `MAX_BYTES`, and returns the bytes. The same bytes serve for the fingerprint (is this
what was applied last time?) and for parsing, so a file rewritten between the two cannot make them
disagree. `read_file` never raises: what cannot be read is a `Problem` naming the file.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from timeline.errors import Problem

MAX_BYTES = 64 * 1024 * 1024
"""A config file larger than this is refused: a 10,000-milestone file is about 2 MB."""

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


@dataclass(frozen=True)
class FileRead:
    """One config file as read: its bytes, or `absent`, or the problem that kept it from being read."""

    path: Path
    data: bytes | None = None
    problem: Problem | None = None
    mtime: float | None = None

    @property
    def absent(self) -> bool:
        return self.data is None and self.problem is None


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refusal(path: Path, mode: int) -> Problem:
    return Problem(path, None, "", f"is {_kind(mode)}, not a regular file; config files must be plain files")


def read_file(path: Path) -> FileRead:
    """The bytes of `path`, read once; absent when it does not exist. Never raises, never blocks."""
    try:
        before = path.stat()
    except FileNotFoundError:
        return FileRead(path)
    except (OSError, ValueError) as exc:
        return FileRead(path, problem=Problem(path, None, "", f"cannot be read: {_reason(exc)}"))
    if not stat.S_ISREG(before.st_mode):
        return FileRead(path, problem=_refusal(path, before.st_mode))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return FileRead(path)
    except OSError as exc:
        return FileRead(path, problem=Problem(path, None, "", f"cannot be read: {_reason(exc)}"))
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # swapped for something else between stat and open
            return FileRead(path, problem=_refusal(path, opened.st_mode))
        if opened.st_size > MAX_BYTES:
            return FileRead(path, problem=_too_large(path))
        data = _read_all(fd)
    except OSError as exc:
        return FileRead(path, problem=Problem(path, None, "", f"cannot be read: {_reason(exc)}"))
    finally:
        os.close(fd)
    if data is None:
        return FileRead(path, problem=_too_large(path))
    return FileRead(path, data, mtime=opened.st_mtime)


def _read_all(fd: int) -> bytes | None:
    """Everything up to end of file; None past MAX_BYTES (a file still growing while read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, 1024 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BYTES:
            return None
        chunks.append(chunk)


def _too_large(path: Path) -> Problem:
    return Problem(path, None, "", f"is larger than {MAX_BYTES // (1024 * 1024)} MB; split it or remove old entries")


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


@dataclass(frozen=True)
class Snapshot:
    """The config files as read at one moment; `fingerprint` identifies their bytes."""

    files: tuple[FileRead, ...]

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for read in self.files:
            digest.update(str(read.path).encode("utf-8", "surrogateescape") + b"\0")
            if read.data is not None:
                digest.update(b"data\0%d\0" % len(read.data) + read.data)
            elif read.problem is not None:
                digest.update(b"problem\0" + str(read.problem).encode("utf-8", "surrogateescape"))
            else:
                digest.update(b"absent\0")
        return digest.hexdigest()

    @property
    def newest_mtime(self) -> float | None:
        """When the most recently modified of the files was last written (None: none exists)."""
        times = [read.mtime for read in self.files if read.mtime is not None]
        return max(times) if times else None

    def get(self, path: Path) -> FileRead:
        return next((read for read in self.files if read.path == path), FileRead(path))


def snapshot(paths: Iterable[Path]) -> Snapshot:
    return Snapshot(tuple(read_file(path) for path in paths))
