"""Bearer tokens: writes need TIMELINE_API_TOKEN; reads are open unless TIMELINE_API_READ_TOKEN is set.

The write token also grants reads. Calendar and feed readers cannot send headers, so the exports
also take the token as `?token=`.
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


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.service.settings
    return settings


def _matches(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def require_write(request: Request, credentials: Credentials) -> None:
    token = settings_of(request).api_token
    if not token:
        raise ApiError(403, "writes are disabled: set TIMELINE_API_TOKEN to enable them")
    if credentials is None:
        raise ApiError(401, "send Authorization: Bearer <TIMELINE_API_TOKEN>", headers=_CHALLENGE)
    if not _matches(credentials.credentials, token):
        raise ApiError(401, "wrong bearer token", headers=_CHALLENGE)


def _check_read(settings: Settings, given: str | None) -> None:
    if not settings.api_read_token:
        return
    if given is None:
        raise ApiError(401, "send Authorization: Bearer <TIMELINE_API_READ_TOKEN>", headers=_CHALLENGE)
    if not (_matches(given, settings.api_read_token) or _matches(given, settings.api_token)):
        raise ApiError(401, "wrong bearer token", headers=_CHALLENGE)


def require_read(request: Request, credentials: Credentials) -> None:
    _check_read(settings_of(request), credentials.credentials if credentials else None)


def require_read_export(
    request: Request,
    credentials: Credentials,
    token: Annotated[str | None, Query(description="The read token, for clients that cannot send headers")] = None,
) -> None:
    _check_read(settings_of(request), credentials.credentials if credentials else token)


Reader = Depends(require_read)
Writer = Depends(require_write)
ExportReader = Depends(require_read_export)
