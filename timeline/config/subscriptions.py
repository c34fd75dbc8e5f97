"""`subscriptions.yaml`: webhook subscribers declared under version control.

Secrets never live in the file: `secret_env` names the environment variable that holds one. Each
subscription is also checked by `alerts` (URL allowed by the SSRF guard, format, event patterns), and
its problems are reported at the line of the field, like every other config problem.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.config import AlertsConfig
from alerts.errors import SubscriptionError
from alerts.subscriptions import SubscriptionSpec, validate_spec
from timeline.config.yamlfile import field_path, line_of, load_model
from timeline.errors import ConfigError, Problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubscriptionEntry(_Strict):
    id: str
    url: str
    format: Literal["standard", "slack", "discord"] = "standard"
    events: list[str] = Field(default_factory=lambda: ["*"])
    tags: list[str] = Field(default_factory=list)
    milestones: list[str] = Field(default_factory=list)
    secret_env: str | None = None
    description: str | None = None


class SubscriptionsFile(_Strict):
    subscriptions: list[SubscriptionEntry] = Field(default_factory=list)


def load_subscriptions(
    path: Path, config: AlertsConfig, environ: Mapping[str, str] | None = None
) -> list[SubscriptionSpec]:
    """Read and check `path` (absent = none); ConfigError lists every problem with its line."""
    if not path.exists():
        return []
    env = os.environ if environ is None else environ
    parsed, raw = load_model(path, SubscriptionsFile)
    problems: list[Problem] = []
    specs: list[SubscriptionSpec] = []
    seen: set[str] = set()
    for index, entry in enumerate(parsed.subscriptions):
        loc: tuple[str | int, ...] = ("subscriptions", index)

        def problem(field: str, message: str, loc: tuple[str | int, ...] = loc) -> None:
            problems.append(Problem(path, line_of(raw, (*loc, field)), field_path((*loc, field)), message))

        if entry.id in seen:
            problem("id", f"duplicate id {entry.id!r}")
        seen.add(entry.id)
        secret = None
        if entry.secret_env:
            secret = env.get(entry.secret_env)
            if not secret:
                problem("secret_env", f"environment variable {entry.secret_env} is not set; export the whsec_ secret")
                continue
        spec = SubscriptionSpec(
            id=entry.id,
            url=entry.url,
            format=entry.format,
            events=tuple(entry.events),
            tags=tuple(entry.tags),
            subjects=tuple(entry.milestones),
            secret=secret,
            description=entry.description,
        )
        try:
            validate_spec(spec, config)
        except SubscriptionError as exc:
            field = {"subjects": "milestones", "secret": "secret_env"}.get(exc.field or "", exc.field or "url")
            problem(field, str(exc))
            continue
        specs.append(spec)
    if problems:
        raise ConfigError(problems)
    return specs
