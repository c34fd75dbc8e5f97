"""The API's documents: `/openapi.json`, Swagger UI at `/docs` and ReDoc at `/redoc`.

They work with no network: the Swagger UI and ReDoc bundles come from the `fastapi-offline` package
and are served here under `/docs-assets/`, never from a CDN (no web fonts either). When
TIMELINE_API_READ_TOKEN is set, all three need it, as a header or as `?token=`; the pages then load
the schema with the same token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import fastapi_offline
from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from timeline.web.auth import ExportReader, page_token
from timeline.web.errors import ApiError

router = APIRouter()
ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
_TITLE = "timeline-alerts API"
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)
"""What the docs pages may load: this server's files only (ReDoc would fetch its logo from a CDN)."""


def _schema_url(request: Request) -> str:
    token = page_token(request)
    return "openapi.json" + (f"?token={quote(token, safe='')}" if token else "")


@router.get("/openapi.json", include_in_schema=False, dependencies=[ExportReader])
def openapi(request: Request) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    return JSONResponse(schema)


@router.get("/docs", include_in_schema=False, dependencies=[ExportReader])
def swagger(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=_schema_url(request),
        title=_TITLE,
        swagger_js_url="docs-assets/swagger-ui-bundle.js",
        swagger_css_url="docs-assets/swagger-ui.css",
        swagger_favicon_url="docs-assets/favicon.png",
    )
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get("/redoc", include_in_schema=False, dependencies=[ExportReader])
def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(
        openapi_url=_schema_url(request),
        title=_TITLE,
        redoc_js_url="docs-assets/redoc.standalone.js",
        redoc_favicon_url="docs-assets/favicon.png",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get("/docs-assets/{name}", include_in_schema=False)
def asset(name: Annotated[str, PathParam(max_length=64)]) -> Response:
    """One of the bundled files (the same public files a CDN would serve: no token needed)."""
    media_type = ASSET_TYPES.get(name)
    if media_type is None:
        raise ApiError(404, f"no documentation asset {name!r}")
    return FileResponse(ASSETS / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})
