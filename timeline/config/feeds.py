"""`feeds.yaml`: its schema, and its resolution into `FeedSpec`s with the defaults applied.

Every problem is reported in one pass as `file:line: field: message`: pydantic checks each feed's
shape and types (unknown fields, bad durations), then `_resolve` checks what needs more than one
field (ids used once, http(s) URLs, regexes that compile and cannot backtrack catastrophically,
wildcards in the right place) on what the rest of a broken feed still says. An absent file, or one
with nothing but comments, means no feeds. Links to milestones are checked against the milestones by
`timeline.config.bundle`, which knows them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from timeline.config.files import FileRead, read_file
from timeline.config.match_rules import Rule, term_problem
from timeline.config.regexes import backtracking_problem
from timeline.config.yamlfile import findings_of
from timeline.durations import Duration
from timeline.errors import ConfigError, Problem

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")
MIN_INTERVAL = timedelta(minutes=1)
MAX_TIMEOUT = timedelta(seconds=60)
"""The longest a fetch may take; a claim's lease (timeline.feeds.store.LEASE) is sized from it."""


def _words(value: Any) -> Any:
    """`any: Anthropic` is a list of one."""
    return [value] if isinstance(value, str) else value


Words = Annotated[list[str], BeforeValidator(_words)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Defaults(_Strict):
    interval: Duration = timedelta(minutes=15)
    timeout: Duration = timedelta(seconds=20)
    max_bytes: int = Field(10_000_000, ge=1024)


class MatchSpec(_Strict):
    any: Words = Field(default_factory=list)
    all: Words = Field(default_factory=list)
    none: Words = Field(default_factory=list)
    regex: str | None = None


class FeedEntrySpec(_Strict):
    id: str
    url: str
    name: str | None = None
    interval: Duration | None = None
    timeout: Duration | None = None
    max_bytes: int | None = Field(None, ge=1024)
    match: MatchSpec | None = None
    milestones: Words = Field(default_factory=list)
    tags: Words = Field(default_factory=list)
    notify_backlog: bool = False
    notify_updates: bool = False
    lang: str | None = Field(None, max_length=35)


class FeedsFile(_Strict):
    defaults: Defaults = Field(default_factory=Defaults)
    feeds: list[FeedEntrySpec] = Field(default_factory=list)


@dataclass(frozen=True)
class FeedSpec:
    """A feed as the rest of the code sees it: defaults applied, rule validated."""

    id: str
    url: str
    name: str
    interval: timedelta = timedelta(minutes=15)
    timeout: timedelta = timedelta(seconds=20)
    max_bytes: int = 10_000_000
    rule: Rule | None = None
    milestones: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    notify_backlog: bool = False
    notify_updates: bool = False
    lang: str | None = None
    """The language of the items (fr, en, de, es; a tag like fr-FR): their dates are read in it."""


@dataclass(frozen=True)
class Link:
    """A feed's link to a milestone id, with where it is written (checked against the milestones)."""

    feed: str
    milestone: str
    line: int | None
    field: str


@dataclass(frozen=True)
class FeedsConfig:
    """What feeds.yaml says: the feeds (when it has no problems), every link to a milestone (checked
    against the milestones by `timeline.config.bundle`), and the problems."""

    path: Path
    feeds: list[FeedSpec]
    links: list[Link] = field(default_factory=list, hash=False)
    problems: tuple[Problem, ...] = ()


def load_feeds(path: Path) -> list[FeedSpec]:
    """Read, validate and resolve `path` (absent = no feeds); ConfigError lists every problem."""
    return parse_feeds(read_file(path)).feeds


def parse_feeds(read: FileRead) -> FeedsConfig:
    """Validate and resolve feeds.yaml from its bytes (absent = no feeds); ConfigError lists every problem."""
    checked = check_feeds(read)
    if checked.problems:
        raise ConfigError(list(checked.problems))
    return checked


def check_feeds(read: FileRead) -> FeedsConfig:
    """Every problem of feeds.yaml (in `problems`, never raised), and its links to milestones."""
    if read.absent:
        return FeedsConfig(read.path, [])
    try:
        findings = findings_of(read)
    except ConfigError as exc:
        return FeedsConfig(read.path, [], [], tuple(exc.problems))
    if findings.document.data is None:
        return FeedsConfig(read.path, [])  # nothing but comments: no feeds yet
    top = findings.top("feeds: []")
    if top is None:
        return FeedsConfig(read.path, [], [], findings.in_order())
    findings.unknown_keys(top, tuple(FeedsFile.model_fields))
    defaults, bad_defaults = findings.validate(Defaults, top.get("defaults", {}), ("defaults",))
    entries = findings.entries(top, "feeds", FeedEntrySpec)
    specs = _resolve(defaults or Defaults(), bad_defaults, entries, findings.add)
    links = [
        Link(entry.id, mid, findings.line(("feeds", index, "milestones", i)), f"feeds[{index}].milestones[{i}]")
        for index, entry, bad in entries
        if "milestones" not in bad
        for i, mid in enumerate(entry.milestones)
    ]
    return FeedsConfig(read.path, specs if not findings.problems else [], links, findings.in_order())


_LIMIT = f"{MAX_TIMEOUT.total_seconds():g}s"
_TIMEOUT_PROBLEM = f"a fetch may take at most {_LIMIT}; a feed slower than that is down, use {_LIMIT} or less"
Report = Callable[[tuple[str | int, ...], str], None]


def _resolve(
    defaults: Defaults,
    bad_defaults: frozenset[str],
    entries: list[tuple[int, FeedEntrySpec, frozenset[str]]],
    report: Report,
) -> list[FeedSpec]:
    if "interval" not in bad_defaults and defaults.interval < MIN_INTERVAL:
        report(("defaults", "interval"), "poll at most once a minute; use 1m or more")
    if "timeout" not in bad_defaults and defaults.timeout > MAX_TIMEOUT:
        report(("defaults", "timeout"), _TIMEOUT_PROBLEM)
    seen: dict[str, int] = {}
    specs = []
    for index, entry, bad in entries:
        loc: tuple[str | int, ...] = ("feeds", index)
        if "id" not in bad:
            if not ID_PATTERN.match(entry.id):
                report((*loc, "id"), f"{entry.id!r} is not a valid id; use lowercase letters, digits, '-', '_' or '.'")
            elif entry.id in seen:
                report((*loc, "id"), f"duplicate id {entry.id!r}, first used in feeds[{seen[entry.id]}]")
            else:
                seen[entry.id] = index
        url_problem = None if "url" in bad else _url_problem(entry.url)
        if url_problem:
            report((*loc, "url"), url_problem)
        if entry.interval is not None and entry.interval < MIN_INTERVAL:
            report((*loc, "interval"), "poll at most once a minute; use 1m or more")
        if entry.timeout is not None and entry.timeout > MAX_TIMEOUT:
            report((*loc, "timeout"), _TIMEOUT_PROBLEM)
        rule = _rule(entry.match, (*loc, "match"), report)
        specs.append(
            FeedSpec(
                id=entry.id,
                url=entry.url.strip(),
                name=entry.name or entry.id,
                interval=entry.interval or defaults.interval,
                timeout=entry.timeout or defaults.timeout,
                max_bytes=entry.max_bytes or defaults.max_bytes,
                rule=rule,
                milestones=tuple(dict.fromkeys(entry.milestones)),
                tags=tuple(dict.fromkeys(entry.tags)),
                notify_backlog=entry.notify_backlog,
                notify_updates=entry.notify_updates,
                lang=entry.lang,
            )
        )
    return specs


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        return f"{url!r} is not an http(s) URL; feeds are fetched over http:// or https:// only"
    if not parts.hostname:
        return f"{url!r} has no host"
    return None


def _rule(spec: MatchSpec | None, loc: tuple[str | int, ...], problem: Any) -> Rule | None:
    if spec is None:
        return None
    for kind in ("any", "all", "none"):
        for i, term in enumerate(getattr(spec, kind)):
            message = term_problem(term)
            if message:
                problem((*loc, kind, i), message)
    if spec.regex is not None:
        try:
            re.compile(spec.regex)
        except (re.error, RecursionError, OverflowError) as exc:
            problem((*loc, "regex"), f"{spec.regex!r} is not a valid regular expression: {exc}")
        else:
            slow = backtracking_problem(spec.regex)
            if slow:
                problem((*loc, "regex"), f"{spec.regex!r} can take exponential time on some texts: {slow}")
    return Rule(any=tuple(spec.any), all=tuple(spec.all), none=tuple(spec.none), regex=spec.regex)
