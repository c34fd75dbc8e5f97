"""All config files at once: read together (one snapshot of their bytes), checked together, so one
broken file stops the whole apply and every problem of every file is reported in one go.

Two checks need more than the files and run where that is known (`timeline.sync.apply_config`
inside its transaction, `timeline check` against the database when there is one):
`link_problems` finds a file milestone whose id is already a milestone created through the API, and
a feed linking a milestone that exists nowhere.
"""

from __future__ import annotations

import io
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from timeline.config.feeds import FeedSpec, Link, check_feeds
from timeline.config.files import FileRead, Snapshot, read_file, snapshot
from timeline.config.milestones import Located, MilestoneDef, check_milestones, parse_milestones
from timeline.config.subscriptions import parse_subscriptions
from timeline.errors import ConfigError, Problem
from timeline.settings import ENV_FILE, Settings

if TYPE_CHECKING:
    from alerts.config import AlertsConfig
    from alerts.subscriptions import SubscriptionSpec


@dataclass(frozen=True)
class ConfigBundle:
    """What the files say. `feeds` or `subscriptions` None: leave those as the database has them.
    `declared` says where each milestone id is written and `feed_links` where each feed links a
    milestone, for the checks against the database (`link_problems`)."""

    milestones_path: Path
    milestones: list[MilestoneDef]
    feeds: list[FeedSpec] | None = None
    subscriptions: list[SubscriptionSpec] | None = None
    declared: Mapping[str, Located] = field(default_factory=dict, hash=False)
    feed_links: list[Link] = field(default_factory=list, hash=False)
    feeds_path: Path | None = None
    ids_known: bool = True

    @classmethod
    def milestones_only(cls, path: Path) -> ConfigBundle:
        parsed = parse_milestones(read_file(path))
        return cls(path, parsed.milestones, declared=parsed.declared)


def config_snapshot(settings: Settings) -> Snapshot:
    """The bytes of every file the config is made of: the three YAML files and `.env` (where
    secrets may live)."""
    return snapshot([settings.milestones_file, settings.feeds_file, settings.subscriptions_file, ENV_FILE])


def environment(read: FileRead) -> dict[str, str]:
    """The process environment over the `.env` file in `read`: where `secret_env` names are looked
    up (the process environment wins, as for settings)."""
    values: dict[str, str] = {}
    if read.data is not None:
        from dotenv import dotenv_values

        text = read.data.decode("utf-8", "replace")
        values = {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}
    return values | dict(os.environ)


def load_config(
    settings: Settings,
    alerts_config: AlertsConfig,
    files: Snapshot | None = None,
    api_ids: Collection[str] = (),
) -> ConfigBundle:
    """Load milestones.yaml, feeds.yaml and subscriptions.yaml from `files` (default: read them
    now). ConfigError lists every problem of every file, file by file in line order, including the
    ids `link_problems` finds against `api_ids` (the ids of milestones created through the API)."""
    bundle, problems = check_config(settings, alerts_config, files, api_ids)
    if problems or bundle is None:
        raise ConfigError(problems)
    return bundle


def check_config(
    settings: Settings,
    alerts_config: AlertsConfig,
    files: Snapshot | None = None,
    api_ids: Collection[str] = (),
) -> tuple[ConfigBundle | None, list[Problem]]:
    """Every problem of the config files (as `load_config` says them), and the bundle whenever the
    files themselves are good, even if their ids contradict `api_ids`: a caller that keeps it can
    apply it later without parsing, once the database agrees."""
    files = files or config_snapshot(settings)
    milestones = check_milestones(files.get(settings.milestones_file))
    feeds = check_feeds(files.get(settings.feeds_file))
    subscriptions: list[SubscriptionSpec] = []
    subscription_problems: list[Problem] = []
    try:
        env = environment(files.get(ENV_FILE))
        subscriptions = parse_subscriptions(files.get(settings.subscriptions_file), alerts_config, env)
    except ConfigError as exc:
        subscription_problems = exc.problems
    bundle = ConfigBundle(
        settings.milestones_file,
        milestones.milestones,
        feeds.feeds,
        subscriptions,
        milestones.declared,
        feeds.links,
        settings.feeds_file,
        ids_known=milestones.readable,
    )
    links = link_problems(bundle, api_ids)
    file_problems = [*milestones.problems, *feeds.problems, *subscription_problems]
    problems = [
        *_in_order([*milestones.problems, *(p for p in links if p.path == settings.milestones_file)]),
        *_in_order([*feeds.problems, *(p for p in links if p.path != settings.milestones_file)]),
        *subscription_problems,
    ]
    return (None if file_problems else bundle), problems


def _in_order(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def link_problems(bundle: ConfigBundle, api_ids: Collection[str]) -> list[Problem]:
    """Ids the files use that contradict each other or the database: a file milestone whose id
    belongs to a milestone created through the API (`api_ids`: not archived), and a feed linking a
    milestone that is neither in the file nor created through the API."""
    problems: list[Problem] = []
    declared = bundle.declared or {m.id: (None, f"milestones[{i}].id") for i, m in enumerate(bundle.milestones)}
    for mid, (line, where) in declared.items():
        if mid in api_ids:
            problems.append(
                Problem(
                    bundle.milestones_path,
                    line,
                    where,
                    f"{mid!r} is already the id of a milestone created through the API; give this one another id, "
                    f"or delete the API one (DELETE /api/milestones/{mid}) to let the file own it",
                )
            )
    if bundle.feeds is None or not bundle.ids_known:  # milestones.yaml unreadable: its ids are unknown
        return problems
    for link in bundle.feed_links:
        if link.milestone not in declared and link.milestone not in api_ids:
            problems.append(
                Problem(
                    bundle.feeds_path or bundle.milestones_path,
                    link.line,
                    link.field,
                    f"feed {link.feed!r} links milestone {link.milestone!r}, which is neither in "
                    f"{bundle.milestones_path.name} nor created through the API; fix the id or remove it",
                )
            )
    return problems
