"""The timeline page: its layout (pure), its HTML, and a real render in headless Chromium."""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from freezegun import freeze_time

from tests.web.conftest import NOW, WRITE
from timeline.config.milestones import MilestoneDef
from timeline.dates import point, span
from timeline.web.page import layout, state_of

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"


def test_layout_places_years_today_and_milestones():
    milestones = [
        MilestoneDef("a", "Span", span("2025", "2027")),
        MilestoneDef("b", "Point", point("2026-Q3")),
    ]
    drawn = layout(milestones, {}, NOW)
    assert [t.label for t in drawn.ticks] == ["2025", "2026", "2027"]
    assert drawn.ticks[0].x == 16
    assert 16 < drawn.ticks[1].x < drawn.today_x < drawn.ticks[2].x
    first, second = drawn.rows
    assert first.is_span and not second.is_span
    assert first.x1 == 16 and first.x2 == 984
    assert second.y > first.y
    assert drawn.height > second.y


def test_due_and_overdue_states():
    m = MilestoneDef("m", "M", point("2026-01"), grace=timedelta(days=30))
    assert state_of(m, NOW - timedelta(days=30)) is None
    assert state_of(m, NOW) == "open"
    assert state_of(m, NOW + timedelta(days=20)) == "due"
    assert state_of(m, NOW + timedelta(days=60)) == "overdue"
    assert state_of(MilestoneDef("d", "D", point("2025"), status="done"), NOW) is None


def test_page_escapes_and_highlights(client):
    hostile = {"id": "hostile", "title": "<script>alert(1)</script> & co", "when": "2025-12", "tags": ["<b>"]}
    late = {"id": "late", "title": "Late", "when": "2025-06"}
    for body in (hostile, late):
        assert client.post("/api/milestones", json=body, headers=WRITE).status_code == 201
    with freeze_time(NOW):
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = response.text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert '<meta name="viewport"' in html
    assert "<svg" in html and 'class="today"' in html
    # Due on 2026-01-01 with 30 days of grace: due on 15 January; 2025-06 is long overdue.
    assert 'class="card s-planned due" id="m-microsoft-sweden"' in html
    assert 'class="card s-planned due" id="m-hostile"' in html
    assert 'class="card s-planned overdue" id="m-late"' in html
    assert 'class="card s-in_progress" id="m-anthropic-us-construction"' in html
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_page_without_milestones(make_client, config_dir):
    (config_dir / "milestones.yaml").write_text("milestones: []\n")
    html = make_client().get("/").text
    assert "No milestones yet" in html


def _png_colours(data: bytes) -> int:
    """How many distinct colours an 8-bit RGB/RGBA PNG holds (a minimal decoder: zlib and the filters)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        colours.update(bytes(line[i : i + channels]) for i in range(0, stride, channels * 7))
        previous = line
    return len(colours)


@pytest.fixture
def served(client) -> Iterator[str]:
    """The app behind a real uvicorn server on 127.0.0.1, in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(client.app, log_config=None, access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
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
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,900",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_chromium_renders_the_page(served, tmp_path, client):
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent (scripts/ensure-system-packages.sh installs it)"
        if IN_CI:
            pytest.fail(f"CI=true requires Chromium: {reason}")
        pytest.skip(reason)
    shot = tmp_path / "page.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", served)
    assert shot.exists(), result.stderr[-2000:]
    assert _png_colours(shot.read_bytes()) > 8
    dom = _chromium(tmp_path, "--dump-dom", served)
    assert dom.returncode == 0, dom.stderr[-2000:]
    titles = [m["title"] for m in client.get("/api/milestones").json()]
    assert len(titles) == 3
    for title in titles:
        assert title.replace("'", "&#39;") in dom.stdout or title in dom.stdout
