"""Bearer tokens: writes need TIMELINE_API_TOKEN; reads are open unless TIMELINE_API_READ_TOKEN is set.

The write token also grants reads. Calendar apps, feed readers and browsers cannot send headers, so
the exports, the page and the API docs also take the *read* token as `?token=`. The write token is
refused there: a URL ends up in browser history, proxy logs and calendar settings, and the token
that can change things must not.

The decisions are plain functions of the settings and the header text (`write_refusal`,
`read_refusal`), so that `timeline.web.edges` can refuse a write before its body is read, and the
routes' dependencies refuse the same things for the same reasons.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from timeline.service import Service
from timeline.settings import Settings
from timeline.web.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="TIMELINE_API_TOKEN (writes) or TIMELINE_API_READ_TOKEN (reads)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
QueryToken = Annotated[
    str | None, Query(max_length=512, description="The read token, for clients that cannot send headers")
]


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.service.settings
    return settings


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; None for anything else."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def _matches(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def is_writer(settings: Settings, token: str | None) -> bool:
    """`token` is the write token."""
    return _matches(token, settings.api_token)


def write_refusal(settings: Settings, token: str | None) -> ApiError | None:
    """Why a write with bearer `token` is refused (403 when writes are disabled, 401 without the
    right token), or None when it may go ahead."""
    if not settings.api_token:
        return ApiError(403, "writes are disabled: set TIMELINE_API_TOKEN to enable them")
    if token is None:
        return ApiError(401, "send Authorization: Bearer <TIMELINE_API_TOKEN>", headers=_CHALLENGE)
    if not is_writer(settings, token):
        return ApiError(401, "wrong bearer token", headers=_CHALLENGE)
    return None


def read_refusal(settings: Settings, header_token: str | None, query_token: str | None = None) -> ApiError | None:
    """Why a read is refused, or None. `header_token` is the bearer token of the request (read or
    write token); `query_token` is a `?token=` (only the read token is taken there)."""
    if query_token is not None and is_writer(settings, query_token) and settings.api_token != settings.api_read_token:
        return ApiError(
            401,
            "the write token is not accepted in a URL, where it would be kept in histories and logs: "
            "use TIMELINE_API_READ_TOKEN as ?token=, or send the write token as Authorization: Bearer",
            field="token",
            headers=_CHALLENGE,
        )
    if not settings.api_read_token:
        return None
    given = header_token if header_token is not None else query_token
    if given is None:
        return ApiError(401, "send Authorization: Bearer <TIMELINE_API_READ_TOKEN>", headers=_CHALLENGE)
    if _matches(given, settings.api_read_token) or (header_token is not None and is_writer(settings, header_token)):
        return None
    return ApiError(401, "wrong bearer token", headers=_CHALLENGE)


def is_trusted_reader(request: Request) -> bool:
    """The caller showed a token (the write token, or the read token when one is set): it may see
    what the config files say and where webhooks go, not only that something is wrong."""
    settings = settings_of(request)
    header = bearer_token(request.headers.get("authorization"))
    if is_writer(settings, header):
        return True
    if not settings.api_read_token:
        return False
    return _matches(header, settings.api_read_token) or _matches(
        request.query_params.get("token"), settings.api_read_token
    )


def page_token(request: Request) -> str | None:
    """The read token the request carried as `?token=`, to carry into the links of a page it gets."""
    given = request.query_params.get("token")
    settings = settings_of(request)
    return given if settings.api_read_token and _matches(given, settings.api_read_token) else None


def require_write(request: Request, credentials: Credentials) -> None:
    refusal = write_refusal(settings_of(request), credentials.credentials if credentials else None)
    if refusal is not None:
        raise refusal


def require_read(request: Request, credentials: Credentials) -> None:
    refusal = read_refusal(settings_of(request), credentials.credentials if credentials else None)
    if refusal is not None:
        raise refusal


def require_read_export(request: Request, credentials: Credentials, token: QueryToken = None) -> None:
    refusal = read_refusal(settings_of(request), credentials.credentials if credentials else None, token)
    if refusal is not None:
        raise refusal


Reader = Depends(require_read)
Writer = Depends(require_write)
ExportReader = Depends(require_read_export)
