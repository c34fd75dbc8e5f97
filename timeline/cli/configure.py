"""`timeline check` and `timeline init`: the config folder, checked in one pass or written from the
starter files. Also `command_settings()`, the settings every command that works on a config folder
starts from.

Imports stay inside the commands: `check` of a large file should pay for reading YAML, not for the
web framework or the scheduler.
"""

from __future__ import annotations

from importlib.resources import files as package_files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from timeline.settings import Settings

STARTER = (
    ("milestones.yaml", "milestones.yaml", "the article's milestones: edit them, or replace them with your own"),
    ("feeds.yaml", "feeds.yaml", "news feeds to watch, and what to look for in them"),
    ("subscriptions.yaml", "subscriptions.yaml", "webhook subscribers (none yet; commented examples inside)"),
    ("env.example", ".env.example", "every setting, commented: copy it to .env where you run timeline"),
    ("gitignore", ".gitignore", "keeps var/ (the database) out of version control"),
)
"""(file in the package's starter folder, name written, what it is)."""


def command_settings() -> Settings:
    """Settings for a command that works on a config folder. Exits 2 with one line per bad setting,
    or saying where milestones.yaml was looked for and how to point elsewhere (creating nothing)."""
    from timeline.errors import SettingsError
    from timeline.logs import setup_logging
    from timeline.settings import load_settings, require_config

    try:
        settings = require_config(load_settings())
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    setup_logging(settings.log_level)
    return settings


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def check() -> None:
    """Validate the config files without changing anything: every problem of every file at once,
    one `file:line: field: message` line each (exit 1)."""
    from timeline.config.bundle import config_snapshot, load_config
    from timeline.errors import ConfigError
    from timeline.settings import alerts_config

    settings = command_settings()
    files = config_snapshot(settings)
    api_ids, unread = _api_milestone_ids(settings.database_url)
    try:
        bundle = load_config(settings, alerts_config(settings), files, api_ids)
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(1) from None
    if unread:
        typer.echo(f"note: {unread}", err=True)
    typer.echo(f"{settings.milestones_file}: {_plural(len(bundle.milestones), 'milestone')}, OK")
    for path, count, word in (
        (settings.feeds_file, len(bundle.feeds or []), "feed"),
        (settings.subscriptions_file, len(bundle.subscriptions or []), "subscription"),
    ):
        if files.get(path).absent:
            typer.echo(f"{path}: not there (optional), so no {word}s")
        else:
            typer.echo(f"{path}: {_plural(count, word)}, OK")


def _api_milestone_ids(url: str) -> tuple[set[str], str | None]:
    """The ids of milestones created through the API, read without creating or changing anything;
    with a note when the database exists but cannot be read."""
    if url.startswith("sqlite") and not Path(url.split(":///", 1)[-1]).is_file():
        return set(), None  # no database yet: nothing to compare with (and nothing to import)
    from sqlalchemy import inspect

    from timeline.db import existing_engine
    from timeline.sync import api_milestone_ids

    engine = existing_engine(url)
    if engine is None:
        return set(), None
    try:
        with engine.connect() as conn:
            return (api_milestone_ids(conn) if inspect(conn).has_table("milestones") else set()), None
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        return set(), f"the database could not be read ({reason}); ids were not compared with API milestones"
    finally:
        engine.dispose()


def init(
    folder: Annotated[
        Path | None,
        typer.Argument(help="Where to write the starter files (default: TIMELINE_CONFIG_DIR, else ./config)."),
    ] = None,
) -> None:
    """Write a commented starter folder: the article's milestones, example feeds and subscriptions,
    a .env.example with every setting. Files already there are kept."""
    from timeline.errors import SettingsError
    from timeline.settings import default_database_url, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    target = folder if folder is not None else settings.config_dir
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        typer.echo(f"cannot create {target}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    source = package_files("timeline") / "starter"
    typer.echo(f"Starter config in {target.absolute()}:")
    for packaged, name, what in STARTER:
        path = target / name
        if path.exists() or path.is_symlink():
            typer.echo(f"  {name:<19} kept (already there)")
            continue
        try:
            path.write_bytes((source / packaged).read_bytes())
        except OSError as exc:
            typer.echo(f"cannot write {path}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"  {name:<19} {what}")
    typer.echo("\nNext:")
    if target.absolute() != settings.config_dir.absolute():
        typer.echo(f"  export TIMELINE_CONFIG_DIR={target.absolute()}")
    typer.echo("  timeline check      validate the files (run it after every edit)")
    typer.echo("  timeline list       the timeline, as of today")
    typer.echo("  timeline serve      the API and page on http://127.0.0.1:8000, and the scheduler")
    if settings.database_url != default_database_url(settings.config_dir):
        typer.echo("The database is the one TIMELINE_DATABASE_URL names.")
    else:
        database = default_database_url(target).removeprefix("sqlite:///")
        typer.echo(f"The database will be {database}, made at the first command (TIMELINE_DATABASE_URL to change).")
