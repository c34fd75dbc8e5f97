"""Cursor pagination of the JSON API: newest first, and `next_cursor` is the id of the last item of
a page, so the next page is what lies below it."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Query

from timeline.web.errors import ApiError

Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
PageSize = Annotated[int, Query(ge=1, le=500, description="Page size")]
_CURSOR = re.compile(r"[0-9]{1,19}")
_MAX_ID = 2**62
_LARGEST_STORED_ID = 2**31 - 1
"""Ids are INTEGER columns (32 bits on PostgreSQL): every stored id lies below a larger cursor."""


def before_id(cursor: str | None) -> int | None:
    """The id a page starts below, None for the first page (and for a cursor above every id that can
    be stored); a 400 for text that is no cursor."""
    if cursor is None:
        return None
    if not _CURSOR.fullmatch(cursor) or not 0 < int(cursor) < _MAX_ID:
        raise ApiError(400, f"{cursor!r} is not a cursor; pass the `next_cursor` of a previous page", field="cursor")
    return int(cursor) if int(cursor) <= _LARGEST_STORED_ID else None


def cursor_page(rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """A page from the `limit + 1` newest rows read: the first `limit`, and a cursor when there are more."""
    items = rows[:limit]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if len(rows) > limit else None}
