"""Exceptions raised by `alerts`.

AlertsError
├── SubscriptionError (ValueError)   a subscription that cannot be created or changed as asked
│   └── UnsafeTargetError            a target URL the SSRF guard refuses (names the URL and the range)
├── SilenceError (ValueError)        a silence that cannot be created as asked (names the field)
├── NotFoundError (LookupError)      an id that names nothing
└── ConflictError                    the request clashes with the current state (config-owned, in flight)
"""

from __future__ import annotations


class AlertsError(Exception):
    """Root of every error `alerts` raises on purpose."""


class SubscriptionError(AlertsError, ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnsafeTargetError(SubscriptionError):
    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}", field="url")
        self.url = url
        self.reason = reason


class SilenceError(AlertsError, ValueError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(AlertsError, LookupError):
    pass


class ConflictError(AlertsError):
    """The request clashes with the current state: a subscription owned by the config file, a
    delivery in flight, a subscription that is disabled."""
