"""The timeline page: its layout (pure), its HTML, and real renders in headless Chromium at a phone's
width and a desktop's, with a long and hostile timeline. Screenshots of both widths are written to
test-artefacts/ for a person to look at."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.web import pagedata
from tests.web.chromium import ARTEFACTS, Browser
from tests.web.conftest import NOW, READ_TOKEN, WRITE, serving, write_config
from timeline.config.milestones import MilestoneDef
from timeline.dates import point, span
from timeline.web.page_layout import NARROW_LABELS, WIDE_LABELS, article, layout, notice_lines, slips_of, state_of


def test_layout_places_years_today_and_milestones():
    milestones = [
        MilestoneDef("a", "Span", span("2025", "2027")),
        MilestoneDef("b", "Point", point("2026-Q3")),
    ]
    drawn = layout(milestones, NOW)
    assert [s.label for s in drawn.wide] == ["2025", "2026", "2027"]
    assert drawn.wide[0].left == 0
    assert drawn.gridlines == (drawn.wide[1].left, drawn.wide[2].left)
    assert drawn.wide[1].left < drawn.today < drawn.wide[2].left
    first, second = drawn.rows
    assert first.is_span and not second.is_span
    assert (first.left, first.width) == (0, 100)
    assert second.left == pytest.approx(100 * (365 + 181) / (3 * 365), abs=0.01)
    assert first.window.text == "2025 → 2027 (1 Jan 2025 – 31 Dec 2027)"
    assert first.window.iso == "2025-01-01T00:00:00Z"
    assert first.due.text == "due 1 Jan 2028, in 716 days"
    assert first.due.iso == "2028-01-01T00:00:00Z"
    assert drawn.now.text == "15 Jan 2026, 12:00 UTC"


@given(
    st.integers(min_value=1950, max_value=2090),
    st.integers(min_value=0, max_value=80),
)
def test_year_segments_tile_the_axis_and_stay_few(start, years):
    drawn = layout([MilestoneDef("m", "M", span(str(start), str(start + years)))], NOW)
    for segments, most in ((drawn.wide, WIDE_LABELS), (drawn.narrow, NARROW_LABELS)):
        assert 1 <= len(segments) <= most
        assert segments[0].left == 0
        assert sum(s.width for s in segments) == pytest.approx(100, abs=0.01)
        for before, after in itertools.pairwise(segments):
            assert after.left == pytest.approx(before.left + before.width, abs=0.01)
        assert all(re.fullmatch(r"\d{4}(–\d{2})?", s.label) for s in segments)


def test_a_timeline_far_from_today_has_no_today_line():
    drawn = layout([MilestoneDef("m", "M", point("2020"))], datetime(2070, 6, 1, tzinfo=UTC))
    assert drawn.today is not None  # the axis always reaches today ...
    far = layout([MilestoneDef("m", "M", point("1990"))], datetime(2070, 6, 1, tzinfo=UTC))
    assert far.rows[0].left == 0 and far.rows[0].width == 0  # ... and is cut 40 years around it


def test_due_and_overdue_states():
    m = MilestoneDef("m", "M", point("2026-01"), grace=timedelta(days=30))
    assert state_of(m, NOW - timedelta(days=30)) is None
    assert state_of(m, NOW) == "open"
    assert state_of(m, NOW + timedelta(days=20)) == "due"
    assert state_of(m, NOW + timedelta(days=60)) == "overdue"
    assert state_of(MilestoneDef("d", "D", point("2025"), status="done"), NOW) is None


def _change(kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None, slip: int | None) -> Any:
    return SimpleNamespace(kind=kind, before=before, after=after, slip_days=slip)


def test_slips_read_old_to_new_with_their_days():
    q3 = {"when_text": "2026-Q3", "timezone": "UTC", "window": "2026-Q3"}
    q4 = {"when_text": "2026-Q4", "timezone": "UTC", "window": "2026-Q4"}
    back = {"when_text": "2026-09", "timezone": "UTC", "window": "2026-09"}
    built = {"starts_text": "2025", "ends_text": "2028-H1", "timezone": "UTC", "window": "2025 → 2028-H1"}
    changes = [
        _change("added", None, q3, None),
        _change("rescheduled", q3, q4, 92),
        _change("status_changed", q4, q4, None),
        _change("rescheduled", q4, back, -61),
        _change("rescheduled", back, built, 1),
    ]
    start, slips = slips_of(changes)
    assert start == "Q3 2026"
    assert [(s.to, s.days) for s in slips] == [
        ("Q4 2026", "+92 days"),
        ("September 2026", "-61 days"),
        ("2025–H1 2028", "+1 day"),
    ]
    assert slips_of([_change("added", None, q3, None)]) == (None, ())
    damaged, moves = slips_of([_change("rescheduled", {"window": "2026-Q3"}, {"when_text": "garbage"}, 3)])
    assert damaged == "2026-Q3" and moves[0].to == "?"


PAYLOADS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@given(st.sampled_from(["feed.item_matched", "milestone.due", "x"]), PAYLOADS, st.sampled_from([None, "m", "other"]))
def test_notice_lines_never_raise_on_any_payload(kind, payload, subject):
    row = SimpleNamespace(type=kind, payload=payload, subject=subject, created_at=NOW)
    (line,) = notice_lines([row], {"m"})
    assert line.headline
    assert line.href is None or line.href == "#m-m" or line.href.startswith(("http://", "https://"))
    title, link = article(row)
    assert title and (link is None or link.startswith(("http://", "https://")))


def test_page_escapes_highlights_and_anchors(client):
    hostile = {"id": "hostile", "title": "<script>alert(1)</script> & co", "when": "2025-12", "tags": ["<b>"]}
    late = {"id": "late", "title": "Late", "when": "2025-06"}
    for body in (hostile, late):
        assert client.post("/api/milestones", json=body, headers=WRITE).status_code == 201
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    html = response.text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "#&lt;b&gt;" in html
    assert '<meta name="viewport"' in html
    for milestone_id in ("hostile", "late", "microsoft-sweden", "example-point", "anthropic-us-construction"):
        assert f'id="m-{milestone_id}"' in html
        assert f'href="#m-{milestone_id}"' in html
    assert "http://" not in html.replace("http://www.w3.org", "")


def test_page_dates_are_human_with_the_instant_in_the_title(client):
    html = client.get("/").text
    assert '<time datetime="2028-01-01T00:00:00Z" title="due 2028-01-01T00:00:00Z">due 1 Jan 2028' in html
    assert 'title="opens 2025-01-01T00:00:00Z">2025 → 2027 (1 Jan 2025 – 31 Dec 2027)</time>' in html
    assert "T00:00:00Z</time>" not in html


def test_page_without_milestones(make_client, config_dir):
    (config_dir / "milestones.yaml").write_text("milestones: []\n")
    html = make_client().get("/").text
    assert "No milestones yet" in html
    assert "0 milestones" in html
    assert "No notices yet" in html


def test_the_read_token_is_carried_into_the_pages_links(make_client):
    client = make_client(api_read_token=READ_TOKEN)
    html = client.get("/", params={"token": READ_TOKEN}).text
    for link in ("timeline.ics", "notices.atom", "docs"):
        assert f'href="{link}?token={READ_TOKEN}"' in html
        assert client.get(f"/{link}", params={"token": READ_TOKEN}).status_code == 200
    # Opened with a header instead, the page has no token to carry (and never the write token).
    html = client.get("/", headers=WRITE).text
    assert 'href="timeline.ics"' in html
    assert "token=" not in html


def test_a_config_that_failed_to_apply_is_a_banner(make_client, config_dir):
    client = make_client()
    write_config(config_dir, "milestones:\n  - id: broken\n    title: Broken\n    when: 2025-13\n")
    client.app.state.service.reload_config(NOW, force=True)
    html = client.get("/").text
    assert "The config on disk could not be applied." in html
    assert "<li>milestones.yaml:4: milestones[0].when</li>" in html
    assert "2025-13" not in html
    assert 'id="m-microsoft-sweden"' in html  # the last good state still serves
    detailed = make_client(api_read_token=READ_TOKEN, sync=False)
    detailed.app.state.service.reload_config(NOW, force=True)
    html = detailed.get("/", params={"token": READ_TOKEN}).text
    assert "milestones.yaml:4: milestones[0].when: &#39;2025-13&#39; is not a date" in html
    write_config(config_dir)
    client.app.state.service.reload_config(NOW, force=True)
    assert "could not be applied" not in client.get("/").text


def test_the_long_timeline_shows_notices_failing_feeds_slips_and_capped_evidence(make_client, config_dir, httpserver):
    client = make_client(feed_allow_private=True)
    pagedata.build(client, config_dir, httpserver, NOW)
    html = client.get("/").text
    assert "51 milestones" in html
    # Slips, old to new, with their days.
    assert 'Moved: Q3 2026 → Q4 2026 <span class="days">(+92 days)</span> → Q1 2027' in html
    # Failing feeds, by name, with the error; the healthy one is not listed.
    assert "1 feed of 2 failing:" in html
    assert "<strong>A feed that answers 500</strong>" in html
    assert "HTTP 500" in html
    # Evidence: the three newest, then a link to the rest.
    detail = client.get("/api/milestones/m-06").json()
    assert detail["evidence_total"] == 40
    assert len(detail["evidence"]) == 20
    start = html.index('id="m-m-06"')
    row = html[start : html.index('<li class="row', start)]
    assert row.count("· Campus news") == 3
    assert "37 more items" in row
    assert 'href="api/milestones/m-06/evidence?limit=100"' in row
    # Recent notices: newest first, worded, feed matches as their article.
    panel = html[html.index('aria-label="Recent notices"') :]
    assert panel.count("<li><time") == 12
    assert "Data centre news" in panel
    assert "javascript:" not in html
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; &amp; friends" in html
    assert "<script" not in html and "<img" not in html


def test_evidence_pages_the_rest(make_client, config_dir, httpserver):
    client = make_client(feed_allow_private=True)
    pagedata.build(client, config_dir, httpserver, NOW, items=30)
    first = client.get("/api/milestones/m-06/evidence", params={"limit": 25}).json()
    assert first["total"] == 30
    assert len(first["items"]) == 25 and first["next_offset"] == 25
    rest = client.get("/api/milestones/m-06/evidence", params={"limit": 25, "offset": 25}).json()
    assert len(rest["items"]) == 5 and rest["next_offset"] is None
    titles = [e["title"] for e in first["items"] + rest["items"]]
    assert len(set(titles)) == 30
    assert client.get("/api/milestones/nope/evidence").status_code == 404
    assert client.get("/api/milestones/m-01/evidence").json() == {"items": [], "total": 0, "next_offset": None}


# In headless Chromium ---------------------------------------------------------------------------

CHECKS = """(() => {
  const width = window.innerWidth;
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
    if (!rects.length) continue;
    texts.push({el: node.parentElement, rects, text: node.textContent.trim().slice(0, 40)});
  }
  const small = texts.map(t => ({text: t.text, size: parseFloat(getComputedStyle(t.el).fontSize)}))
                     .filter(t => t.size < 12);
  const titles = [...document.querySelectorAll('.row .title')].map(el => {
    const r = el.getBoundingClientRect();
    return {text: el.textContent, visible: r.width > 0 && r.height > 0 && getComputedStyle(el).visibility === 'visible',
            inside: r.left >= 0 && r.right <= width + 0.5, clipped: el.scrollWidth > el.clientWidth + 1};
  });
  const lines = [...document.querySelectorAll('.today')].map(el => el.getBoundingClientRect());
  const crossed = [];
  for (const line of lines) for (const t of texts) for (const r of t.rects)
    if (r.left < line.right && r.right > line.left && r.top < line.bottom && r.bottom > line.top) crossed.push(t.text);
  return {scrollWidth: document.documentElement.scrollWidth, width, small, titles, crossed,
          lines: lines.length, scripts: document.querySelectorAll('script, img').length};
})()"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1400, 900)])
def test_the_page_in_chromium_fits_the_screen_and_reads_well(
    make_client, config_dir, httpserver, tmp_path, width, height
):
    client = make_client(feed_allow_private=True)
    pagedata.build(client, config_dir, httpserver, datetime.now(UTC))
    expected = [m["title"] for m in client.get("/api/milestones").json()]
    assert len(expected) == 51
    with serving(client.app) as url, Browser(tmp_path / "profile") as browser:
        page = browser.open(url, width=width, height=height)
        found = page.evaluate(CHECKS)
        shot = page.screenshot(ARTEFACTS / f"page-{width}.png")
        page.screenshot(ARTEFACTS / f"page-{width}-top.png", height=height)
    print(f"screenshots: {shot} and {shot.with_name(f'page-{width}-top.png')}")
    assert browser.blocked == []
    assert found["scrollWidth"] <= found["width"], "the page scrolls sideways"
    assert found["small"] == [], "text smaller than 12 px"
    assert [t["text"] for t in found["titles"]] == expected
    assert all(t["visible"] and t["inside"] and not t["clipped"] for t in found["titles"]), [
        t for t in found["titles"] if not (t["visible"] and t["inside"] and not t["clipped"])
    ]
    assert found["lines"] == 51
    assert found["crossed"] == [], "the today line runs through text"
    assert found["scripts"] == 0, "hostile titles became elements"
    assert shot.stat().st_size > 20_000
