"""`milestones.yaml`: its schema, and its resolution into `MilestoneDef`s with windows and defaults.

Validation runs in two passes, both reporting `file:line: field: message`: pydantic checks the shape
and types, then `_resolve` checks what needs the whole milestone (dates in their time zone, spans
ending after they start, ids used once).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from timeline.config.yamlfile import field_path, line_of, load_model
from timeline.dates import Schedule, parse_window, point, span, zone
from timeline.durations import parse_duration
from timeline.errors import ConfigError, Problem

Status = Literal["planned", "in_progress", "done", "cancelled"]
STATUSES: tuple[str, ...] = ("planned", "in_progress", "done", "cancelled")
ACTIVE_STATUSES: tuple[str, ...] = ("planned", "in_progress")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")


def _text(value: Any) -> Any:
    """YAML gives `2025` as an int; a date is text to `timeline.dates`."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _duration(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return parse_duration(value)
    return value


def _repeat(value: Any) -> Any:
    return None if value in ("never", None) else _duration(value)


DateText = Annotated[str, BeforeValidator(_text)]
Duration = Annotated[timedelta, BeforeValidator(_duration)]
Repeat = Annotated[timedelta | None, BeforeValidator(_repeat)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    timezone: str = "UTC"
    remind: list[Duration] = Field(default_factory=lambda: [timedelta(days=d) for d in (90, 30, 7, 1)])
    grace: Duration = timedelta(days=30)
    repeat: Repeat = timedelta(days=30)


class MilestoneSpec(_Strict):
    id: str
    title: str = Field(min_length=1)
    subject: str | None = None
    when: DateText | None = None
    starts: DateText | None = None
    ends: DateText | None = None
    timezone: str | None = None
    status: Status = "planned"
    tags: list[str] = Field(default_factory=list)
    source: str | None = None
    notes: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    remind: list[Duration] | None = None
    grace: Duration | None = None
    repeat: Repeat = Field(default=None)


class MilestonesFile(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    milestones: list[MilestoneSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class MilestoneDef:
    """A milestone as the rest of the code sees it: windows parsed, defaults applied."""

    id: str
    title: str
    schedule: Schedule
    timezone: str = "UTC"
    subject: str | None = None
    when: str | None = None
    starts: str | None = None
    ends: str | None = None
    status: str = "planned"
    tags: tuple[str, ...] = ()
    source: str | None = None
    notes: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    remind: tuple[timedelta, ...] = ()
    grace: timedelta = timedelta(days=30)
    repeat: timedelta | None = timedelta(days=30)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def load_milestones(path: Path) -> list[MilestoneDef]:
    """Read, validate and resolve `path`; ConfigError lists every problem with its line."""
    parsed, raw = load_model(path, MilestonesFile)
    return _resolve(parsed, raw, path)


def resolve_spec(spec: MilestoneSpec, defaults: Defaults | None = None, *, path: Path = Path("<api>")) -> MilestoneDef:
    """One milestone given outside a file (through the API), resolved as a file entry would be.

    Raises ConfigError whose problems name the milestone's own field (`when`, `ends`, `id`)."""
    try:
        return _resolve(MilestonesFile(defaults=defaults or Defaults(), milestones=[spec]), None, path)[0]
    except ConfigError as exc:
        problems = [
            replace(p, field=p.field.removeprefix("milestones[0]").removeprefix(".") or "when") for p in exc.problems
        ]
        raise ConfigError(problems) from None


def _resolve(parsed: MilestonesFile, raw: Any, path: Path) -> list[MilestoneDef]:
    problems: list[Problem] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(path, line_of(raw, loc), field_path(loc), message))

    defaults = parsed.defaults
    try:
        zone(defaults.timezone)
    except ValueError as exc:
        problem(("defaults", "timezone"), str(exc))
    seen: dict[str, int] = {}
    resolved = []
    for index, spec in enumerate(parsed.milestones):
        loc: tuple[str | int, ...] = ("milestones", index)
        if not ID_PATTERN.match(spec.id):
            problem((*loc, "id"), f"{spec.id!r} is not a valid id; use lowercase letters, digits, '-', '_' or '.'")
        elif spec.id in seen:
            problem((*loc, "id"), f"duplicate id {spec.id!r}, first used in milestones[{seen[spec.id]}]")
        else:
            seen[spec.id] = index
        schedule = _schedule(spec, defaults.timezone, loc, problem)
        if schedule is None:
            continue
        resolved.append(
            MilestoneDef(
                id=spec.id,
                title=spec.title,
                schedule=schedule,
                timezone=spec.timezone or defaults.timezone,
                subject=spec.subject,
                when=schedule.opens.text if spec.when is not None else None,
                starts=schedule.opens.text if spec.when is None else None,
                ends=schedule.closes.text if spec.when is None else None,
                status=spec.status,
                tags=tuple(spec.tags),
                source=spec.source,
                notes=spec.notes,
                attributes=dict(spec.attributes),
                remind=tuple(sorted(set(spec.remind if spec.remind is not None else defaults.remind), reverse=True)),
                grace=spec.grace if spec.grace is not None else defaults.grace,
                repeat=spec.repeat if "repeat" in spec.model_fields_set else defaults.repeat,
            )
        )
    if problems:
        raise ConfigError(problems)
    return resolved


def _schedule(spec: MilestoneSpec, default_tz: str, loc: tuple[str | int, ...], problem: Any) -> Schedule | None:
    tz = spec.timezone or default_tz
    try:
        zone(tz)
    except ValueError as exc:
        problem((*loc, "timezone") if spec.timezone else ("defaults", "timezone"), str(exc))
        return None
    if spec.when is not None and (spec.starts is not None or spec.ends is not None):
        problem((*loc, "when"), "give either `when` (a point) or `starts` and `ends` (a span), not both")
        return None
    if spec.when is None and (spec.starts is None or spec.ends is None):
        missing = "ends" if spec.starts is not None else "starts" if spec.ends is not None else "when"
        problem(
            (*loc, missing) if missing != "when" else loc,
            f"`{missing}` is missing; a milestone needs `when` (a point) or both `starts` and `ends` (a span)",
        )
        return None
    fields = {"when": spec.when} if spec.when is not None else {"starts": spec.starts, "ends": spec.ends}
    bad = False
    for name, value in fields.items():
        try:
            parse_window(str(value), tz)
        except ValueError as exc:
            problem((*loc, name), str(exc))
            bad = True
    if bad:
        return None
    if spec.when is not None:
        return point(spec.when, tz)
    try:
        return span(str(spec.starts), str(spec.ends), tz)
    except ValueError as exc:
        problem((*loc, "ends"), str(exc))
        return None
