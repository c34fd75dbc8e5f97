"""The fields of a subscription, checked: one check per field (`CHECKS`), each returning the value
normalised or raising `SubscriptionError` naming the field; and, at creation, the check that its
target's host name reaches an address the guard allows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from alerts.channel_fields import CHANNEL_FIELDS, CHANNEL_FORMATS, channel_fields
from alerts.config import MAX_TIMEOUT, AlertsConfig
from alerts.errors import SubscriptionError, UnsafeTargetError
from alerts.formats import FORMATS
from alerts.guard import check_url, resolved_refusal

SUBSCRIPTION_FORMATS = (*FORMATS, *CHANNEL_FORMATS)
MAX_CONCURRENCY = 100
MAX_PATTERNS = 100
"""The most event patterns (and tags, and subjects) a subscription may list: fan-out matches every
notice against each of them."""


def _strings(value: Any, field: str, *, nonempty: bool = False) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise SubscriptionError(f"{field} is a list of strings", field=field)
    items = list(value)
    if len(items) > MAX_PATTERNS:
        raise SubscriptionError(f"{field} holds at most {MAX_PATTERNS} entries (it has {len(items)})", field=field)
    if not all(isinstance(item, str) and item.strip() for item in items):
        raise SubscriptionError(f"{field} holds non-empty strings only", field=field)
    if nonempty and not items:
        raise SubscriptionError(f"{field} needs at least one pattern, such as '*' or 'milestone.*'", field=field)
    return [item.strip() for item in items]


def _url(value: Any, config: AlertsConfig) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SubscriptionError("url is required", field="url")
    check_url(value.strip(), config.policy)
    return value.strip()


def _format(value: Any, config: AlertsConfig) -> str:
    if value not in SUBSCRIPTION_FORMATS:
        raise SubscriptionError(f"format is one of {', '.join(SUBSCRIPTION_FORMATS)}", field="format")
    return str(value)


def _active(value: Any, config: AlertsConfig) -> bool:
    if not isinstance(value, bool):
        raise SubscriptionError("active is true or false", field="active")
    return value


def _description(value: Any, config: AlertsConfig) -> str | None:
    if value is not None and not isinstance(value, str):
        raise SubscriptionError("description is text", field="description")
    return value


def _concurrency(value: Any, config: AlertsConfig) -> int | None:
    if value is not None and (not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY):
        raise SubscriptionError(f"concurrency is between 1 and {MAX_CONCURRENCY}", field="concurrency")
    return value


def _timeout(value: Any, config: AlertsConfig) -> float | None:
    longest = max(config.timeout, MAX_TIMEOUT).total_seconds()
    if value is not None and (not isinstance(value, int | float) or not 0 < value <= longest):
        raise SubscriptionError(f"timeout_seconds is above 0 and at most {longest:g}", field="timeout_seconds")
    return None if value is None else float(value)


CHECKS: dict[str, Callable[[Any, AlertsConfig], Any]] = {
    "url": _url,
    "format": _format,
    "events": lambda value, _: _strings(value, "events", nonempty=True),
    "tags": lambda value, _: _strings(value, "tags"),
    "subjects": lambda value, _: _strings(value, "subjects"),
    "active": _active,
    "description": _description,
    "concurrency": _concurrency,
    "timeout_seconds": _timeout,
}
"""The check of each editable field: it returns the value normalised or raises SubscriptionError
naming the field."""
EDITABLE = frozenset(CHECKS) | CHANNEL_FIELDS


def validate(fields: Mapping[str, Any], config: AlertsConfig, current_format: str = "standard") -> dict[str, Any]:
    """Check subscription fields (any subset of `EDITABLE`) and return them normalised. The target
    (`url`, or `to` for format email, stored as a `mailto:` URL), `quiet` and `digest` are checked
    by `alerts.channel_fields`, the target by the format (`current_format` when `fields` does not
    set it).

    Raises `UnsafeTargetError` for a URL the SSRF guard refuses, `SubscriptionError` naming the
    field for anything else."""
    unknown = sorted(set(fields) - EDITABLE)
    if unknown:
        raise SubscriptionError(f"unknown field {unknown[0]!r}", field=unknown[0])
    format_ = fields.get("format", current_format)
    by_channel = format_ in CHANNEL_FORMATS
    if current_format in CHANNEL_FORMATS and not by_channel and "url" not in fields:
        raise SubscriptionError(f"format {format_} sends to a url: give one with the new format", field="url")
    clean = {
        name: CHECKS[name](value, config)
        for name, value in fields.items()
        if name not in CHANNEL_FIELDS and not (by_channel and name == "url")
    }
    return clean | channel_fields(format_, fields, config.policy)


def check_reachable(url: str, config: AlertsConfig) -> None:
    """Refuse, at creation, a target whose host name resolves only to addresses the guard refuses
    (`UnsafeTargetError` naming the url). A name that does not resolve now is let through: every
    connection is checked again when it is made. Only http(s) targets: email goes to the configured
    SMTP server, and Apprise's host checks are `alerts.channel_fields`'s (each connection's, its
    sender's)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return
    host = parts.hostname
    reason = resolved_refusal(host, config.policy, config.resolve) if host else None
    if reason:
        raise UnsafeTargetError(url, reason)
