"""A long, hostile timeline for the page tests: 50 milestones with long titles and markup in them,
every status, points and spans over several years, slips, a feed with many matched items, a failing
feed, recent notices, and a config file that fails to apply while the last good one serves.

Everything goes in through the service's own doors (config files, the API, a poll of a feed served
on 127.0.0.1), never by writing rows directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from fastapi.testclient import TestClient

from tests.web.conftest import WRITE

HOSTILE = (
    "<script>alert('title')</script> & friends",
    '"><img src=x onerror=alert(1)> quoted',
    "{{ 7 * 7 }} {% raw %} template text",
    "مركز بيانات جديد في الرياض — right-to-left text",
    "🚀 Launch 🚀 with emoji 🏗️",
    "AveryveryverylongwordwithoutanyspacesthatkeepsgoingandgoingandgoinglikeaURLpastethatnobodybroke_intopieces",
)
STATUSES = ("planned", "in_progress", "done", "cancelled")
WHENS = ("2025-H2", "2026-Q1", "2026-03", "2026-Q3", "2026-11-15", "2027", "2027-H1", "2028-Q2", "2029", "2030-H2")
SPANS = (("2025", "2027"), ("2026-Q1", "2026-Q4"), ("2024", "2026"), ("2027-H1", "2029-H2"), ("2026-06", "2031"))


def long_title(n: int) -> str:
    if n < len(HOSTILE):
        return HOSTILE[n]
    base = f"Milestone {n:02d}: construction of the regional data centre campus, phase {n % 4 + 1}"
    return base + (", with the grid connection, the cooling plant and the second substation" if n % 3 == 0 else "")


def milestones_yaml(count: int = 50) -> str:
    lines = ["defaults: {timezone: UTC, remind: [30d], grace: 30d}", "milestones:"]
    for n in range(count):
        lines += [f"  - id: m-{n:02d}", f"    title: {_yaml_text(long_title(n))}"]
        if n % 4 == 1:
            starts, ends = SPANS[n % len(SPANS)]
            lines += [f'    starts: "{starts}"', f'    ends: "{ends}"']
        else:
            lines.append(f'    when: "{WHENS[n % len(WHENS)]}"')
        lines += [f"    status: {STATUSES[n % 7 % 4]}", f"    tags: [t{n % 5}]"]
        if n % 6 == 0:
            lines.append(f"    subject: {_yaml_text('Subject <b>' + str(n) + '</b>')}")
    return "\n".join(lines) + "\n"


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rss(count: int, base: str) -> bytes:
    items = []
    for n in range(count):
        title = f"Data centre news {n}: campus grid connection approved" if n else "<b>Hostile</b> &lt;i&gt; title"
        link = f"{base}/article/{n}" if n != 1 else "javascript:alert(1)"
        items.append(
            f"<item><title>{escape(title)}</title><guid isPermaLink='false'>g{n}</guid><link>{escape(link)}</link>"
            f"<description>campus news</description><pubDate>Sun, 0{n % 9 + 1} Feb 2026 10:00:00 GMT</pubDate></item>"
        )
    body = "<?xml version='1.0'?><rss version='2.0'><channel><title>News</title><link>http://x/</link>"
    return (body + "<description>d</description>" + "".join(items) + "</channel></rss>").encode()


def feeds_yaml(good: str, bad: str) -> str:
    return f"""\
feeds:
  - id: campus-news
    name: Campus news
    url: "{good}"
    match: {{any: [campus]}}
    milestones: [m-06, m-07]
    notify_backlog: true
  - id: broken-feed
    name: A feed that answers 500
    url: "{bad}"
    milestones: [m-06]
"""


def build(client: TestClient, config_dir: Path, httpserver: object, now: datetime, *, items: int = 40) -> None:
    """Fill the service behind `client` with the long timeline (see the module docstring)."""
    service = client.app.state.service  # type: ignore[attr-defined]
    server = httpserver
    server.expect_request("/feed.xml").respond_with_data(
        rss(items, server.url_for("")), content_type="application/rss+xml"
    )  # type: ignore[attr-defined]
    server.expect_request("/broken.xml").respond_with_data("down", status=500)  # type: ignore[attr-defined]
    (config_dir / "milestones.yaml").write_text(milestones_yaml(), encoding="utf-8")
    (config_dir / "feeds.yaml").write_text(
        feeds_yaml(server.url_for("/feed.xml"), server.url_for("/broken.xml")),  # type: ignore[attr-defined]
        encoding="utf-8",
    )
    service.reload_config(now, force=True)
    assert service.config.error is None, service.config.error
    service.poll_feeds(now)
    moved = {"id": "moved-twice", "title": "Grid connection (moved twice)", "when": "2026-Q3", "tags": ["grid"]}
    assert client.post("/api/milestones", json=moved, headers=WRITE).status_code == 201
    for when in ("2026-Q4", "2027-Q1"):
        assert client.patch("/api/milestones/moved-twice", json={"when": when}, headers=WRITE).status_code == 200
    service.scan(now + timedelta(minutes=1))
    # A bad edit: the last good state keeps serving, and the page says where the file is broken.
    good = (config_dir / "milestones.yaml").read_text(encoding="utf-8")
    (config_dir / "milestones.yaml").write_text(good.replace('when: "2026-Q1"', 'when: "2026-Q5"', 1), encoding="utf-8")
    service.reload_config(now + timedelta(minutes=2), force=True)
    assert service.config.error is not None
