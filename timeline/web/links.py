"""Absolute links, built from TIMELINE_PUBLIC_URL (`Settings.base_url`), never from the request's
Host header: a client cannot make the service hand out links to a host of its choosing (in a
`Location` header, an Atom entry or a calendar event). Behind a reverse proxy, set
TIMELINE_PUBLIC_URL to the address people use."""

from __future__ import annotations

from urllib.parse import quote

from timeline.settings import Settings


def link(settings: Settings, path: str = "") -> str:
    """`{base_url}/{path}`; `path` is already URL-encoded."""
    return f"{settings.base_url}/{path.lstrip('/')}"


def milestone_link(settings: Settings, milestone_id: str) -> str:
    """The milestone's anchor on the page: `{base_url}/#m-<id>`."""
    return f"{settings.base_url}/#m-{quote(milestone_id, safe='')}"
