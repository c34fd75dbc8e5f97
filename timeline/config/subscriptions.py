"""`subscriptions.yaml`: subscribers (webhooks, Slack, Discord, email, Apprise) declared under version
control.

Secrets never live in the file: `secret_env` names the environment variable that holds one, looked
up in the environment, then in the `.env` file (the environment wins). Each subscription is also
checked by `alerts` (URL allowed by the SSRF guard, format, event patterns), and its problems are
reported at the line of the field, like every other config problem. An absent file means no config
subscriptions; an empty one is refused (write `subscriptions: []`): a file truncated while being
saved must not look like "every subscription removed".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from timeline.config.files import FileRead, read_file
from timeline.config.yamlfile import findings_of

if TYPE_CHECKING:
    from alerts.config import AlertsConfig
    from alerts.subscriptions import SubscriptionSpec


Format = Literal["standard", "slack", "discord", "email", "apprise"]
"""The formats a subscription can ask for; the same as alerts' `SUBSCRIPTION_FORMATS` (the webhook
formats of `alerts.formats` and the channels email and apprise)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SubscriptionEntry(_Strict):
    id: str
    url: str | None = None
    format: Format = "standard"
    to: list[str] = Field(default_factory=list)
    quiet: str | None = None
    digest: str | None = None
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
    """Read and check `path` (absent = none), secrets from `environ` (default: the process
    environment); ConfigError lists every problem with its line."""
    return parse_subscriptions(read_file(path), config, os.environ if environ is None else environ)


def parse_subscriptions(read: FileRead, config: AlertsConfig, environ: Mapping[str, str]) -> list[SubscriptionSpec]:
    """Check subscriptions.yaml from its bytes (absent = none). `environ` holds the secrets
    `secret_env` names. ConfigError lists every problem with its line."""
    if read.absent:
        return []
    from alerts.errors import SubscriptionError  # the alerts engine (and its database models) only when needed
    from alerts.subscriptions import SubscriptionSpec, validate_spec

    findings = findings_of(read)
    top = findings.top("subscriptions: []")
    if top is None:
        findings.raise_if_any()
        raise AssertionError("unreachable: an empty file is a problem")
    findings.unknown_keys(top, tuple(SubscriptionsFile.model_fields))
    specs: list[SubscriptionSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(findings.items(top, "subscriptions")):
        loc: tuple[str | int, ...] = ("subscriptions", index)
        entry, bad = findings.validate(SubscriptionEntry, item, loc)
        if entry is None:
            continue

        def problem(field: str, message: str, loc: tuple[str | int, ...] = loc) -> None:
            findings.add((*loc, field), message)

        if "id" not in bad:
            if entry.id in seen:
                problem("id", f"duplicate id {entry.id!r}")
            seen.add(entry.id)
        secret = None
        if entry.secret_env:
            secret = environ.get(entry.secret_env)
            if not secret:
                problem(
                    "secret_env",
                    f"environment variable {entry.secret_env} is not set; export the whsec_ secret "
                    "or add it to the .env file",
                )
                continue
        spec = SubscriptionSpec(
            id=entry.id,
            url=entry.url or "",
            format=entry.format,
            to=tuple(entry.to),
            quiet=entry.quiet,
            digest=entry.digest,
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
            if not bad or field == "url":  # with broken fields (a bad format), only the URL is judged alone
                problem(field, str(exc))
            continue
        if not bad:
            specs.append(spec)
    findings.raise_if_any()
    return specs
