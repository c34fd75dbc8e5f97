"""The fields of a subscription, checked: one check per field (`CHECKS`), each returning the value
normalised or raising `SubscriptionError` naming the field; and, at creation, the check that its
target's host name reaches an address the guard allows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from alerts.config import MAX_TIMEOUT, AlertsConfig
from alerts.errors import SubscriptionError, UnsafeTargetError
from alerts.formats import FORMATS
from alerts.guard import check_url, resolved_refusal

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
    if value not in FORMATS:
        raise SubscriptionError(f"format is one of {', '.join(FORMATS)}", field="format")
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
EDITABLE = frozenset(CHECKS)


def validate(fields: Mapping[str, Any], config: AlertsConfig) -> dict[str, Any]:
    """Check subscription fields (any subset of `EDITABLE`) and return them normalised.

    Raises `UnsafeTargetError` for a URL the SSRF guard refuses, `SubscriptionError` naming the
    field for anything else."""
    unknown = sorted(set(fields) - EDITABLE)
    if unknown:
        raise SubscriptionError(f"unknown field {unknown[0]!r}", field=unknown[0])
    return {name: CHECKS[name](value, config) for name, value in fields.items()}


def check_reachable(url: str, config: AlertsConfig) -> None:
    """Refuse, at creation, a target whose host name resolves only to addresses the guard refuses
    (`UnsafeTargetError` naming the url). A name that does not resolve now is let through: every
    connection is checked again when it is made."""
    host = urlsplit(url).hostname
    reason = resolved_refusal(host, config.policy, config.resolve) if host else None
    if reason:
        raise UnsafeTargetError(url, reason)
