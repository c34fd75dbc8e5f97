"""/docs and /redoc with no network: their assets come from the app, and the operations show."""

from __future__ import annotations

import pytest

from tests.web.chromium import ARTEFACTS, Browser
from tests.web.conftest import READ_TOKEN, serving

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

SWAGGER_OPERATIONS = "document.querySelectorAll('.opblock-summary-path').length"
REDOC_ITEMS = "document.querySelectorAll('[data-item-id]').length"


def test_the_docs_pages_use_no_outside_asset(client):
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "cdn." not in html and "googleapis" not in html and "fastapi.tiangolo.com" not in html
        assert "docs-assets/" in html
    for name, kind in (
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "css"),
        ("redoc.standalone.js", "javascript"),
    ):
        asset = client.get(f"/docs-assets/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"]
        assert len(asset.content) > 100_000
    assert client.get("/docs-assets/..%2Fcore.py").status_code == 404
    assert client.get("/docs-assets/secret.txt").status_code == 404


def test_swagger_ui_and_redoc_show_the_operations_with_the_network_off(client, tmp_path):
    with serving(client.app) as url, Browser(tmp_path / "profile") as browser:
        docs = browser.open(url + "docs", width=1280, height=900)
        operations = docs.wait_for(f"{SWAGGER_OPERATIONS} >= 20 && {SWAGGER_OPERATIONS}")
        docs.screenshot(ARTEFACTS / "docs.png", height=900)
        paths = docs.evaluate("[...document.querySelectorAll('.opblock-summary-path')].map(e => e.textContent)")
        redoc = browser.open(url + "redoc", width=1280, height=900)
        listed = redoc.wait_for(f"{REDOC_ITEMS} >= 20 && {REDOC_ITEMS}")
        redoc.screenshot(ARTEFACTS / "redoc.png", height=900)
    assert operations >= 20
    assert "/api/milestones" in paths and "/notices.atom" in paths
    assert listed >= 20
    assert browser.blocked == [], "the docs asked the network for something"


def test_the_docs_carry_the_read_token_to_the_schema(make_client, tmp_path):
    client = make_client(api_read_token=READ_TOKEN)
    assert client.get("/docs").status_code == 401
    html = client.get("/docs", params={"token": READ_TOKEN}).text
    assert f"openapi.json?token={READ_TOKEN}" in html
    with serving(client.app) as url, Browser(tmp_path / "profile") as browser:
        docs = browser.open(f"{url}docs?token={READ_TOKEN}", width=1280, height=900)
        assert docs.wait_for(f"{SWAGGER_OPERATIONS} >= 20 && {SWAGGER_OPERATIONS}") >= 20
    assert browser.blocked == []
