"""Conditional GET for the exports: an ETag from the bytes, Last-Modified from the data, 304 when the
client already has them (RFC 9110 13.1-13.2: If-None-Match wins over If-Modified-Since).

`not_modified` is pure and cannot raise on any header text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime

from fastapi import Response

from alerts.headers import http_date

_MAX_TAGS = 64
"""If-None-Match lists past this many tags are not worth reading (a client has one)."""


def etag(body: bytes) -> str:
    """A strong validator of `body`: the same bytes always give the same tag."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(headers: Mapping[str, str], tag: str, last_modified: datetime | None) -> bool:
    """Whether a GET with these request headers (lower-case names) may be answered 304."""
    given = headers.get("if-none-match")
    if given is not None:
        tags = given.split(",", _MAX_TAGS)[:_MAX_TAGS]
        return any(t.strip() == "*" or _opaque(t) == tag for t in tags)
    since = http_date(headers.get("if-modified-since"))
    if since is None or last_modified is None:
        return False
    return last_modified.replace(microsecond=0) <= since


def http_time(moment: datetime) -> str:
    """`Thu, 15 Jan 2026 12:00:00 GMT`."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def conditional(headers: Mapping[str, str], body: bytes, media_type: str, last_modified: datetime | None) -> Response:
    """`body` as a 200 with ETag and Last-Modified, or a bodiless 304 when the client has it."""
    tag = etag(body)
    validators = {"ETag": tag, "Cache-Control": "no-cache"}
    if last_modified is not None:
        validators["Last-Modified"] = http_time(last_modified)
    if not_modified(headers, tag, last_modified):
        return Response(status_code=304, headers=validators)
    return Response(body, media_type=media_type, headers=validators)
