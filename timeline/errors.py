"""Exceptions raised by `timeline`.

TimelineError
├── ConfigError (ValueError)      one or more problems in a config file, each with file, line and field
├── SettingsError (ValueError)    a TIMELINE_* variable with a value we cannot use
│   └── NoConfigError             the config folder holds no milestones.yaml
├── NotFoundError (LookupError)   an id that names nothing
└── ConflictError                 a write that the current state forbids (e.g. a config-owned milestone)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class TimelineError(Exception):
    """Root of every error `timeline` raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config file, printed as `path:line: field: message`."""

    path: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else str(self.path)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(TimelineError, ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @property
    def path(self) -> Path:
        return self.problems[0].path


class SettingsError(TimelineError, ValueError):
    pass


class NoConfigError(SettingsError):
    """A command was run where there is no milestones.yaml; the message says where it looked."""


class NotFoundError(TimelineError, LookupError):
    pass


class ConflictError(TimelineError):
    pass
