"""Milestones created, edited and removed through the API: plain functions, no web framework.

API milestones go through the same path as config edits (`sync.apply`), so they get the same change
history and the same notices (`milestone.added`, `.rescheduled`, `.status_changed`, `.removed`).
Milestones owned by the config file are read-only here: a ConflictError names the file to edit.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, select

from timeline.config.milestones import Defaults, MilestoneDef, MilestonesFile, MilestoneSpec, resolve_spec
from timeline.config.yamlfile import field_path, load_model
from timeline.db import write_transaction
from timeline.errors import ConfigError, ConflictError, NotFoundError, TimelineError
from timeline.store import MILESTONES, to_def
from timeline.sync import Change, Stored, apply, diff

#: The fields PATCH may change (the id never changes).
EDITABLE = frozenset(MilestoneSpec.model_fields) - {"id"}


class MilestoneInputError(TimelineError, ValueError):
    """A milestone given through the API that cannot be accepted; `field` names the culprit."""

    def __init__(self, message: str, *, field: str | None) -> None:
        super().__init__(message)
        self.field = field


def config_defaults(path: Path) -> Defaults:
    """The `defaults:` of the milestones file, so API milestones get the same lead times and grace;
    the built-in defaults when the file is absent or broken."""
    try:
        parsed, _ = load_model(path, MilestonesFile)
    except (ConfigError, OSError):
        return Defaults()
    return parsed.defaults


def _spec(data: dict[str, Any], defaults: Defaults) -> MilestoneDef:
    try:
        spec = MilestoneSpec.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = field_path(error["loc"]) or None
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = f"unknown field {field!r}"
        raise MilestoneInputError(message, field=field) from None
    try:
        m = resolve_spec(spec, defaults)
    except ConfigError as exc:
        problem = exc.problems[0]
        raise MilestoneInputError(problem.message, field=problem.field or None) from None
    return m


def _row(conn: Connection, milestone_id: str) -> Any:
    return conn.execute(select(MILESTONES).where(MILESTONES.c.id == milestone_id)).first()


def _owned_by_api(row: Any, config_file: Path) -> None:
    if row.origin != "api":
        where = row.origin_path or str(config_file)
        raise ConflictError(f"milestone {row.id!r} is defined in {where}; edit that file to change it")


def create_milestone(
    engine: Engine,
    data: dict[str, Any],
    now: datetime,
    *,
    defaults: Defaults,
    config_file: Path,
    base_url: str | None = None,
) -> Any:
    """Add the milestone described by `data` (the fields of `milestones.yaml`); return its row."""
    m = _spec(data, defaults)
    with write_transaction(engine) as conn:
        existing = _row(conn, m.id)
        if existing is not None:
            if existing.origin != "api":
                _owned_by_api(existing, config_file)
            state = "was removed; ids are never reused" if existing.archived_at else "already exists"
            raise ConflictError(f"milestone {m.id!r} {state}")
        apply(conn, [Change("added", m)], now, path=None, origin="api", base_url=base_url)
        return _row(conn, m.id)


def _as_data(m: MilestoneDef) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": m.id,
        "title": m.title,
        "subject": m.subject,
        "timezone": m.timezone,
        "status": m.status,
        "tags": list(m.tags),
        "source": m.source,
        "notes": m.notes,
        "attributes": dict(m.attributes),
        "remind": list(m.remind),
        "grace": m.grace,
        "repeat": m.repeat,
    }
    if m.when is not None:
        data["when"] = m.when
    else:
        data |= {"starts": m.starts, "ends": m.ends}
    return data


def _editable_row(conn: Connection, milestone_id: str, config_file: Path) -> Any:
    """The live row of a milestone the API owns: NotFoundError when there is none (or it is
    archived), the refusal of `_owned_by_api` when the config file owns it."""
    row = _row(conn, milestone_id)
    if row is None or row.archived_at is not None:
        raise NotFoundError(f"no milestone {milestone_id!r}")
    _owned_by_api(row, config_file)
    return row


def update_milestone(
    engine: Engine,
    milestone_id: str,
    patch: dict[str, Any],
    now: datetime,
    *,
    defaults: Defaults,
    config_file: Path,
    base_url: str | None = None,
) -> Any:
    """Change the given fields of an API milestone; return its row. Giving `when` makes it a point,
    giving `starts` or `ends` makes it a span; a field given as null goes back to its default."""
    unknown = sorted(set(patch) - EDITABLE)
    if unknown:
        raise MilestoneInputError(f"field {unknown[0]!r} cannot be changed", field=unknown[0])
    with write_transaction(engine) as conn:
        row = _editable_row(conn, milestone_id, config_file)
        before = to_def(row)
        data = _as_data(before)
        if "when" in patch:
            data.pop("starts", None)
            data.pop("ends", None)
        elif "starts" in patch or "ends" in patch:
            data.pop("when", None)
        data |= patch
        data = {k: v for k, v in data.items() if v is not None or k == "repeat"}
        after = _spec(data, defaults)
        # The same comparison as a config edit: the milestone is compared as if the file owned it.
        changes = diff([after], {before.id: Stored(before, "config", False)})
        if changes:
            apply(conn, changes, now, path=None, origin="api", base_url=base_url)
        return _row(conn, milestone_id)


def delete_milestone(
    engine: Engine, milestone_id: str, now: datetime, *, config_file: Path, base_url: str | None = None
) -> None:
    """Archive an API milestone (its history and notices stay) and publish `milestone.removed`."""
    with write_transaction(engine) as conn:
        row = _editable_row(conn, milestone_id, config_file)
        m = to_def(row)
        apply(conn, [Change("removed", m, m)], now, path=None, origin="api", base_url=base_url)
