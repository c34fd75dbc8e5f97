"""Every error the HTTP surface answers, mapped in one place to `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from alerts.errors import ConflictError as AlertsConflict
from alerts.errors import NotFoundError as AlertsNotFound
from alerts.errors import SilenceError, SubscriptionError, UnsafeTargetError
from timeline.editing import MilestoneInputError
from timeline.errors import ConfigError, ConflictError, NotFoundError

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    500: "internal",
}


class ApiError(Exception):
    """An error raised by the web layer itself (auth, a bad cursor): status, code, message, field."""

    def __init__(
        self, status: int, message: str, *, field: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = _CODES.get(status, "error")
        self.message = message
        self.field = field
        self.headers = headers


def _loc_field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in ("body", "query", "path", "header") else list(map(str, loc))
    return ".".join(parts) or (str(loc[0]) if loc else None)


def _validation(exc: RequestValidationError) -> ApiError:
    errors = list(exc.errors())
    if not errors:
        return ApiError(422, "invalid request")
    first = errors[0]
    field = _loc_field(first.get("loc", ()))
    if first.get("type") == "json_invalid":
        return ApiError(400, f"the body is not valid JSON: {first.get('msg')}", field="body")
    if first.get("type") == "extra_forbidden":
        message = f"unknown field {field!r}"
    elif first.get("type") == "missing":
        message = f"{field} is required"
    else:
        message = f"{field}: {str(first.get('msg', 'invalid')).removeprefix('Value error, ')}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return ApiError(422, message, field=field)


def describe(exc: Exception) -> ApiError:
    """The answer for `exc`: the one mapping from our exceptions to HTTP statuses."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, MilestoneInputError):
        return ApiError(422, str(exc), field=exc.field)
    if isinstance(exc, UnsafeTargetError):
        error = ApiError(422, str(exc), field=exc.field)
        error.code = "unsafe_target"
        return error
    if isinstance(exc, SubscriptionError | SilenceError):
        return ApiError(422, str(exc), field=exc.field)
    if isinstance(exc, NotFoundError | AlertsNotFound):
        return ApiError(404, str(exc))
    if isinstance(exc, ConflictError | AlertsConflict):
        return ApiError(409, str(exc))
    if isinstance(exc, ConfigError):
        problem = exc.problems[0]
        return ApiError(422, problem.message, field=problem.field or None)
    if isinstance(exc, StarletteHTTPException):
        return ApiError(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))
    return ApiError(500, "internal error; the server log has the details")


def error_response(error: ApiError) -> JSONResponse:
    body = {"error": {"code": error.code, "message": error.message, "field": error.field}}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    error = describe(exc)
    if error.status >= 500:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(error)


def install_error_handlers(app: FastAPI) -> None:
    for kind in (
        ApiError,
        RequestValidationError,
        StarletteHTTPException,
        MilestoneInputError,
        SubscriptionError,
        NotFoundError,
        AlertsNotFound,
        ConflictError,
        AlertsConflict,
        ConfigError,
    ):
        app.add_exception_handler(kind, _handle)
