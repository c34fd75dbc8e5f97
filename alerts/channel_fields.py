"""The fields of a subscription that depend on its channel: the target of `email` (`to` addresses,
kept as a `mailto:` URL) and `apprise` (an Apprise URL) subscriptions, `quiet` hours and `digest`.

`target`, `quiet_field` and `digest_field` raise `SubscriptionError` naming the field users wrote (`to`, `url`,
`quiet`); the rest of a subscription is checked by `alerts.subscriptions.validate`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alerts.apprise_send import apprise_problem
from alerts.digests import parse_digest
from alerts.errors import SubscriptionError
from alerts.guard import AddressPolicy
from alerts.mail import MAX_ADDRESSES, address_problem
from alerts.quiet import parse_quiet

EMAIL, APPRISE = "email", "apprise"
CHANNEL_FORMATS = (EMAIL, APPRISE)
CHANNEL_FIELDS = frozenset({"to", "quiet", "digest"})
"""The fields checked here (beside `url`, for the formats of `CHANNEL_FORMATS`)."""
MAILTO = "mailto:"


def mail_url(to: Any) -> str:
    """The `mailto:` URL an email subscription stores for its addresses `to` (checked)."""
    if isinstance(to, str) or not isinstance(to, Sequence) or not to:
        raise SubscriptionError("format email needs `to`: a list of addresses such as [ops@example.org]", field="to")
    if len(to) > MAX_ADDRESSES:
        raise SubscriptionError(f"to holds at most {MAX_ADDRESSES} addresses", field="to")
    for address in to:
        problem = address_problem(address)
        if problem is not None:
            raise SubscriptionError(problem, field="to")
    return MAILTO + ",".join(dict.fromkeys(a.strip() for a in to))


def addresses(url: str) -> tuple[str, ...]:
    """The addresses of an email subscription's stored URL (empty for any other URL)."""
    if not url.startswith(MAILTO):
        return ()
    return tuple(a for a in url.removeprefix(MAILTO).split(",") if a)


def target(format_: str, url: Any, to: Any, policy: AddressPolicy) -> str:
    """The URL to store for a subscription of `format_` given its `url` and `to` fields."""
    if format_ == EMAIL:
        if url is not None and not (isinstance(url, str) and url.startswith(MAILTO)):
            raise SubscriptionError("format email takes `to` addresses, not a url", field="url")
        return mail_url(to if to is not None else list(addresses(url or "")))
    if to:
        raise SubscriptionError("to is for format email only; other formats send to their url", field="to")
    if not isinstance(url, str) or not url.strip():
        raise SubscriptionError("url is required", field="url")
    if format_ == APPRISE:
        problem = apprise_problem(url.strip(), policy)
        if problem is not None:
            raise SubscriptionError(problem, field="url")
    return url.strip()


def quiet_field(value: Any) -> str | None:
    """The quiet hours to store (`22:00-07:00 Europe/Paris`), normalised, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = parse_quiet(value)
    if isinstance(parsed, str):
        raise SubscriptionError(parsed, field="quiet")
    return parsed.text()


def digest_field(value: Any) -> str | None:
    """The digest schedule to store (`daily 09:00 Europe/Paris`), normalised, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = parse_digest(value)
    if isinstance(parsed, str):
        raise SubscriptionError(parsed, field="digest")
    return parsed.text()


def channel_fields(format_: str, fields: Mapping[str, Any], policy: AddressPolicy) -> dict[str, Any]:
    """The checked values of the fields of `fields` this module judges, for a subscription of
    `format_`: the target's `url` (for email and Apprise), `quiet` and `digest`."""
    clean: dict[str, Any] = {}
    if format_ in CHANNEL_FORMATS and ("url" in fields or "to" in fields or "format" in fields):
        clean["url"] = target(format_, fields.get("url"), fields.get("to"), policy)
    elif fields.get("to"):
        raise SubscriptionError("to is for format email only; other formats send to their url", field="to")
    if "quiet" in fields:
        clean["quiet"] = quiet_field(fields["quiet"])
    if "digest" in fields:
        clean["digest"] = digest_field(fields["digest"])
    return clean
