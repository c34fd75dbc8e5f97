"""All config files at once: loaded and checked together, so one broken file stops the whole apply
and every problem of every file is reported in one go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alerts.config import AlertsConfig
from alerts.subscriptions import SubscriptionSpec
from timeline.config.feeds import FeedSpec, load_feeds
from timeline.config.milestones import MilestoneDef, load_milestones
from timeline.config.subscriptions import load_subscriptions
from timeline.errors import ConfigError, Problem
from timeline.settings import Settings


@dataclass(frozen=True)
class ConfigBundle:
    """What the files say. `feeds` or `subscriptions` None: leave those as the database has them."""

    milestones_path: Path
    milestones: list[MilestoneDef]
    feeds: list[FeedSpec] | None = None
    subscriptions: list[SubscriptionSpec] | None = None

    @classmethod
    def milestones_only(cls, path: Path) -> ConfigBundle:
        return cls(path, load_milestones(path))


def load_config(settings: Settings, alerts_config: AlertsConfig) -> ConfigBundle:
    """Load milestones.yaml, feeds.yaml and subscriptions.yaml; ConfigError lists the problems of all."""
    problems: list[Problem] = []
    milestones: list[MilestoneDef] = []
    feeds: list[FeedSpec] = []
    subscriptions: list[SubscriptionSpec] = []
    try:
        milestones = load_milestones(settings.milestones_file)
    except ConfigError as exc:
        problems += exc.problems
    try:
        feeds = load_feeds(settings.feeds_file)
    except ConfigError as exc:
        problems += exc.problems
    try:
        subscriptions = load_subscriptions(settings.subscriptions_file, alerts_config)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(problems)
    return ConfigBundle(settings.milestones_file, milestones, feeds, subscriptions)
