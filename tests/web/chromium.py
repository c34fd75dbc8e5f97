"""Headless Chromium driven over the DevTools protocol (aiohttp's WebSocket client), for page tests:
a viewport of a given size, JavaScript evaluated in the page, full-page screenshots, and a network
that reaches only the server under test (every other request is failed and recorded).

    with Browser(tmp_path) as browser:
        page = browser.open(url, width=390, height=844)
        page.evaluate("document.title")
        page.screenshot(path)
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = REPO / "test-artefacts"
"""Screenshots and other things a person should look at after a run (gitignored)."""


def require_chromium() -> None:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (scripts/ensure-system-packages.sh installs it)"
        if IN_CI:
            pytest.fail(f"CI=true requires Chromium: {reason}")
        pytest.skip(reason)


class Page:
    """One tab, attached to a DevTools session."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.call(method, params, session=self.session)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        """Evaluate `expression` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.1)

    def screenshot(self, path: Path, *, top: float = 0, height: float | None = None) -> Path:
        """A PNG of the whole page (not only the viewport), or of `height` pixels from `top`."""
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        tall = min(size["height"] - top, height or 16000)
        clip = {"x": 0, "y": top, "width": size["width"], "height": tall, "scale": 1}
        data = self.send("Page.captureScreenshot", format="png", clip=clip, captureBeyondViewport=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


class Browser:
    """A headless Chromium process and one DevTools connection to it."""

    def __init__(self, profile: Path) -> None:
        self.profile = profile
        self.loop = asyncio.new_event_loop()
        self.ids = itertools.count(1)
        self.process: subprocess.Popen[bytes] | None = None
        self.blocked: list[str] = []
        self.allowed_origin: str | None = None
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    def __enter__(self) -> Browser:
        require_chromium()
        self.profile.mkdir(parents=True, exist_ok=True)
        command = [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--hide-scrollbars",
            # Names other than loopback resolve to nothing: the network is off but for the test server.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "about:blank",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError("Chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.loop.run_until_complete(self._connect(f"ws://127.0.0.1:{port}{path}"))
        return self

    async def _connect(self, url: str) -> None:
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(url, max_msg_size=0)

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(self._close())
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.loop.close()

    async def _close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    def call(self, method: str, params: dict[str, Any], *, session: str | None = None) -> dict[str, Any]:
        return self.loop.run_until_complete(asyncio.wait_for(self._call(method, params, session), 60))

    async def _call(self, method: str, params: dict[str, Any], session: str | None) -> dict[str, Any]:
        assert self._ws is not None
        number = next(self.ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self._ws.send_str(json.dumps(message))
        while True:
            reply = json.loads((await self._ws.receive()).data)
            if reply.get("method") == "Fetch.requestPaused":
                await self._route(reply)
            elif reply.get("id") == number:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    async def _route(self, event: dict[str, Any]) -> None:
        """Let requests to the server under test through; fail and record every other one."""
        assert self._ws is not None
        url = event["params"]["request"]["url"]
        request_id = event["params"]["requestId"]
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin == self.allowed_origin or parts.scheme in ("data", "blob"):
            reply = {"method": "Fetch.continueRequest", "params": {"requestId": request_id}}
        else:
            self.blocked.append(url)
            reply = {
                "method": "Fetch.failRequest",
                "params": {"requestId": request_id, "errorReason": "InternetDisconnected"},
            }
        await self._ws.send_str(json.dumps({"id": next(self.ids), "sessionId": event["sessionId"], **reply}))

    def open(self, url: str, *, width: int, height: int) -> Page:
        """A new tab of `width` x `height` CSS pixels (a phone's when narrower than 600) showing `url`,
        with the network cut off except for `url`'s own origin."""
        parts = urlsplit(url)
        self.allowed_origin = f"{parts.scheme}://{parts.netloc}"
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Page.enable")
        page.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
        mobile = width < 600
        page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)
        page.send("Page.navigate", url=url)
        page.wait_for("document.readyState === 'complete'")
        return page
