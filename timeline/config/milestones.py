"""`milestones.yaml`: its schema, and its resolution into `MilestoneDef`s with windows and defaults.

Every problem of the file is reported in one pass, each as `file:line: field: message`: pydantic
checks each milestone's shape and types, and `_resolve` checks what needs the whole milestone (ids
used once, dates in their time zone, spans ending after they start) on what the rest of a broken
milestone still says, so that a bad status does not hide a bad date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from timeline.config.files import FileRead, read_file
from timeline.config.yamlfile import field_path, findings_of
from timeline.dates import Schedule, Window, parse_window, span_of, zone
from timeline.durations import Duration, duration_field
from timeline.errors import ConfigError, Problem

Status = Literal["planned", "in_progress", "done", "cancelled"]
STATUSES: tuple[Status, ...] = get_args(Status)
ACTIVE_STATUSES: tuple[Status, ...] = ("planned", "in_progress")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")


def _text(value: Any) -> Any:
    """YAML gives `2025` as an int; a date is text to `timeline.dates`."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _repeat(value: Any) -> Any:
    return None if value in ("never", None) else duration_field(value)


DateText = Annotated[str, BeforeValidator(_text)]
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


Located = tuple[int | None, str]
"""Where something is written: (line, field)."""


@dataclass(frozen=True)
class MilestonesConfig:
    """What milestones.yaml says: the milestones (when it has no problems), where each id is declared
    (every entry with a usable id, broken or not: other files and the database are checked against
    them), and the problems."""

    path: Path
    milestones: list[MilestoneDef]
    declared: dict[str, Located] = field(default_factory=dict, hash=False)
    problems: tuple[Problem, ...] = ()
    readable: bool = True


def load_milestones(path: Path) -> list[MilestoneDef]:
    """Read, validate and resolve `path`; ConfigError lists every problem with its line."""
    return parse_milestones(read_file(path)).milestones


def parse_milestones(read: FileRead) -> MilestonesConfig:
    """Validate and resolve milestones.yaml from its bytes; ConfigError lists every problem."""
    checked = check_milestones(read)
    if checked.problems:
        raise ConfigError(list(checked.problems))
    return checked


def check_milestones(read: FileRead) -> MilestonesConfig:
    """Every problem of milestones.yaml (in `problems`, never raised), and what it declares."""
    try:
        findings = findings_of(read)
    except ConfigError as exc:
        return MilestonesConfig(read.path, [], {}, tuple(exc.problems), readable=False)
    top = findings.top("milestones: []")
    if top is None:
        return MilestonesConfig(read.path, [], {}, findings.in_order(), readable=False)
    findings.unknown_keys(top, tuple(MilestonesFile.model_fields))
    defaults, bad_defaults = findings.validate(Defaults, top.get("defaults", {}), ("defaults",))
    entries = findings.entries(top, "milestones", MilestoneSpec)
    declared: dict[str, Located] = {}
    for index, spec, bad in entries:
        loc = ("milestones", index, "id")
        if "id" not in bad and spec.id not in declared:
            declared[spec.id] = (findings.line(loc), field_path(loc))
    resolved = _resolve(defaults or Defaults(), bad_defaults, entries, findings.add)
    return MilestonesConfig(read.path, resolved if not findings.problems else [], declared, findings.in_order())


def resolve_spec(spec: MilestoneSpec, defaults: Defaults | None = None, *, path: Path = Path("<api>")) -> MilestoneDef:
    """One milestone given outside a file (through the API), resolved as a file entry would be.

    Raises ConfigError whose problems name the milestone's own field (`when`, `ends`, `id`)."""
    problems: list[Problem] = []

    def report(loc: tuple[str | int, ...], message: str) -> None:
        field = field_path(loc).removeprefix("milestones[0]").removeprefix(".") or "when"
        problems.append(Problem(path, None, field, message))

    resolved = _resolve(defaults or Defaults(), frozenset(), [(0, spec, frozenset())], report)
    if problems:
        raise ConfigError(problems)
    return resolved[0]


Report = Callable[[tuple[str | int, ...], str], None]
_DATE_FIELDS = ("when", "starts", "ends")


def _resolve(
    defaults: Defaults,
    bad_defaults: frozenset[str],
    entries: list[tuple[int, MilestoneSpec, frozenset[str]]],
    report: Report,
) -> list[MilestoneDef]:
    """Check what needs whole milestones and build their definitions. `entries` are (index, spec,
    names of fields already reported broken): checks on those fields are skipped, the rest run."""
    if "timezone" not in bad_defaults:
        try:
            zone(defaults.timezone)
        except ValueError as exc:
            report(("defaults", "timezone"), str(exc))
    windows = _Windows()
    seen: dict[str, int] = {}
    resolved = []
    for index, spec, bad in entries:
        loc: tuple[str | int, ...] = ("milestones", index)
        if "id" not in bad:
            if not ID_PATTERN.match(spec.id):
                report((*loc, "id"), f"{spec.id!r} is not a valid id; use lowercase letters, digits, '-', '_' or '.'")
            elif spec.id in seen:
                report((*loc, "id"), f"duplicate id {spec.id!r}, first used in milestones[{seen[spec.id]}]")
            else:
                seen[spec.id] = index
        schedule = _schedule(spec, bad, defaults.timezone, loc, report, windows)
        if schedule is None or bad:
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
    return resolved


class _Windows:
    """`parse_window` remembered per (text, zone): a large file repeats the same dates and zones."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], Window | str] = {}
        self._zones: dict[str, str | None] = {}

    def zone_problem(self, name: str) -> str | None:
        if name not in self._zones:
            try:
                zone(name)
                self._zones[name] = None
            except ValueError as exc:
                self._zones[name] = str(exc)
        return self._zones[name]

    def parse(self, text: str, tz: str) -> Window | str:
        key = (text, tz)
        found = self._seen.get(key)
        if found is None:
            try:
                found = parse_window(text, tz)
            except ValueError as exc:
                found = str(exc)
            self._seen[key] = found
        return found


def _schedule(
    spec: MilestoneSpec,
    bad: frozenset[str],
    default_tz: str,
    loc: tuple[str | int, ...],
    report: Report,
    windows: _Windows,
) -> Schedule | None:
    tz = default_tz if "timezone" in bad else spec.timezone or default_tz
    tz_problem = windows.zone_problem(tz)
    if tz_problem is not None:
        if spec.timezone and "timezone" not in bad:
            report((*loc, "timezone"), tz_problem)
        tz = "UTC"  # still check the dates themselves: a bad zone must not hide a bad date
    given = {name: getattr(spec, name) for name in _DATE_FIELDS if name not in bad and getattr(spec, name) is not None}
    if not any(name in bad for name in _DATE_FIELDS):
        _check_shape(given, loc, report)
    parsed: dict[str, Window] = {}
    for name, value in given.items():
        window = windows.parse(str(value), tz)
        if isinstance(window, str):
            report((*loc, name), window)
        else:
            parsed[name] = window
    if tz_problem is not None or bad.intersection(_DATE_FIELDS) or len(parsed) != len(given) or not parsed:
        return None
    return _schedule_of(parsed, loc, report)


def _check_shape(given: dict[str, object], loc: tuple[str | int, ...], report: Report) -> None:
    """`when` alone or `starts` with `ends`; empties `given` when both shapes are mixed."""
    if "when" in given and ("starts" in given or "ends" in given):
        report((*loc, "when"), "give either `when` (a point) or `starts` and `ends` (a span), not both")
        given.clear()
    elif "when" not in given and len(given) < 2:
        missing = "ends" if "starts" in given else "starts" if "ends" in given else "when"
        report(
            (*loc, missing) if missing != "when" else loc,
            f"`{missing}` is missing; a milestone needs `when` (a point) or both `starts` and `ends` (a span)",
        )


def _schedule_of(parsed: dict[str, Window], loc: tuple[str | int, ...], report: Report) -> Schedule | None:
    if "when" in parsed:
        return Schedule(parsed["when"], parsed["when"])
    if "starts" not in parsed or "ends" not in parsed:
        return None
    try:
        return span_of(parsed["starts"], parsed["ends"])
    except ValueError as exc:
        report((*loc, "ends"), str(exc))
        return None
