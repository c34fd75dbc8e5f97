"""The door of the HTTP API: what is refused before a request body is read or parsed.

`RequestEdges` is ASGI middleware in front of every route:

1. A write (POST, PUT, PATCH, DELETE) without the write token is refused (401, or 403 when writes
   are disabled) from its headers alone: its body is never read.
2. A body longer than `MAX_BODY_BYTES` is refused with 413 naming the limit: at once when
   `Content-Length` says so, else as soon as the bytes streamed past it. A body within the limit is
   read whole (so at most `MAX_BODY_BYTES` are ever held) and handed on.
3. A JSON body nested deeper than `MAX_JSON_DEPTH` is refused with 422 before any parser recurses
   into it.

The checks of the bytes are pure functions that cannot raise (`nests_deeper_than`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from timeline.settings import Settings
from timeline.web.auth import bearer_token, write_refusal
from timeline.web.errors import ApiError, error_response

MAX_BODY_BYTES = 1_048_576
"""The largest request body accepted (1 MiB): a milestone or a subscription is a few hundred bytes."""
MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects accepted in a JSON body."""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')


def nests_deeper_than(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest more than `limit` deep in `body` (JSON text, maybe
    malformed). Brackets inside strings do not count. Never raises."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth = 0
    in_string = False
    skip = -1  # the position of a character escaped by the backslash before it
    for match in _STRUCTURE.finditer(body):
        char, at = match[0], match.start()
        if in_string:
            if at == skip:
                continue
            if char == b"\\":
                skip = at + 1
            elif char == b'"':
                in_string = False
            continue
        if char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif char in (b"]", b"}"):
            depth = max(0, depth - 1)
    return False


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None when absent or not a plain number."""
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
    return None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def _too_large() -> ApiError:
    return ApiError(
        413, f"the request body is larger than {MAX_BODY_BYTES:,} bytes, the most this API accepts", field="body"
    )


@dataclass
class _Read:
    body: bytes
    refusal: ApiError | None


async def _read_body(receive: Receive) -> _Read:
    """The whole body, or a refusal once it passes the limit (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _Read(b"", ApiError(400, "the client went away before sending the whole body"))
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return _Read(b"", _too_large())
        chunks.append(chunk)
        if not message.get("more_body", False):
            return _Read(b"".join(chunks), None)


class RequestEdges:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in WRITE_METHODS:
            refusal = write_refusal(self.settings, bearer_token(_header(scope, b"authorization")))
            if refusal is not None:
                await error_response(refusal)(scope, receive, send)
                return
        declared = _content_length(scope)
        if declared is not None and declared > MAX_BODY_BYTES:
            await error_response(_too_large())(scope, receive, send)
            return
        if scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        read = await _read_body(receive)
        refusal = read.refusal
        if refusal is None and nests_deeper_than(read.body):
            refusal = ApiError(
                422, f"the JSON body nests arrays and objects more than {MAX_JSON_DEPTH} deep", field="body"
            )
        if refusal is not None:
            await error_response(refusal)(scope, receive, send)
            return
        await self.app(scope, _replay(read.body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the already-read body once, then what the client sends next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
