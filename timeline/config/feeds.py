"""`feeds.yaml`: its schema, and its resolution into `FeedSpec`s with the defaults applied.

Two passes, both reporting `file:line: field: message`: pydantic checks shapes and types (unknown
fields, bad durations), then `_resolve` checks what needs more than one field (ids used once, http(s)
URLs, regexes that compile, wildcards in the right place). An absent file means no feeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from timeline.config.yamlfile import field_path, line_of, load_model
from timeline.durations import parse_duration
from timeline.errors import ConfigError, Problem
from timeline.feeds.match import Rule, term_problem

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")
MIN_INTERVAL = timedelta(minutes=1)
MAX_TIMEOUT = timedelta(seconds=60)
"""The longest a fetch may take; a claim's lease (timeline.feeds.store.LEASE) is sized from it."""


def _duration(value: Any) -> Any:
    if isinstance(value, str | int) and not isinstance(value, bool):
        return parse_duration(value)
    return value


def _words(value: Any) -> Any:
    """`any: Anthropic` is a list of one."""
    return [value] if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
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


def load_feeds(path: Path) -> list[FeedSpec]:
    """Read, validate and resolve `path` (absent = no feeds); ConfigError lists every problem."""
    if not path.exists():
        return []
    parsed, raw = load_model(path, FeedsFile)
    return _resolve(parsed, raw, path)


_LIMIT = f"{MAX_TIMEOUT.total_seconds():g}s"
_TIMEOUT_PROBLEM = f"a fetch may take at most {_LIMIT}; a feed slower than that is down, use {_LIMIT} or less"


def _resolve(parsed: FeedsFile, raw: Any, path: Path) -> list[FeedSpec]:
    problems: list[Problem] = []

    def problem(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(path, line_of(raw, loc), field_path(loc), message))

    defaults = parsed.defaults
    if defaults.interval < MIN_INTERVAL:
        problem(("defaults", "interval"), "poll at most once a minute; use 1m or more")
    if defaults.timeout > MAX_TIMEOUT:
        problem(("defaults", "timeout"), _TIMEOUT_PROBLEM)
    seen: dict[str, int] = {}
    specs = []
    for index, entry in enumerate(parsed.feeds):
        loc: tuple[str | int, ...] = ("feeds", index)
        if not ID_PATTERN.match(entry.id):
            problem((*loc, "id"), f"{entry.id!r} is not a valid id; use lowercase letters, digits, '-', '_' or '.'")
        elif entry.id in seen:
            problem((*loc, "id"), f"duplicate id {entry.id!r}, first used in feeds[{seen[entry.id]}]")
        else:
            seen[entry.id] = index
        url_problem = _url_problem(entry.url)
        if url_problem:
            problem((*loc, "url"), url_problem)
        if entry.interval is not None and entry.interval < MIN_INTERVAL:
            problem((*loc, "interval"), "poll at most once a minute; use 1m or more")
        if entry.timeout is not None and entry.timeout > MAX_TIMEOUT:
            problem((*loc, "timeout"), _TIMEOUT_PROBLEM)
        rule = _rule(entry.match, (*loc, "match"), problem)
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
            )
        )
    if problems:
        raise ConfigError(problems)
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
        except re.error as exc:
            problem((*loc, "regex"), f"{spec.regex!r} is not a valid regular expression: {exc}")
    return Rule(any=tuple(spec.any), all=tuple(spec.all), none=tuple(spec.none), regex=spec.regex)


def unknown_milestones(specs: list[FeedSpec], known: set[str]) -> list[str]:
    """Warnings for feeds linking milestone ids that `known` lacks (the feed still works)."""
    return [
        f"feed {spec.id!r} links unknown milestone {mid!r}"
        for spec in specs
        for mid in spec.milestones
        if mid not in known
    ]
