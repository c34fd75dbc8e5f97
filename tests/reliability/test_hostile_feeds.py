"""Hostile feeds beside good ones, polled by two `timeline worker` processes on PostgreSQL (#17 H1,
M8): a feed whose items carry a lone surrogate and a NUL is stored and notified like the others, a
feed whose items the database refuses is recorded as failing alone, and every good item becomes one
notice delivered once to each subscriber: nothing lost, nothing duplicated."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select, text

from tests.reliability.conftest import (
    FEED_RULE_WORD,
    Scenario,
    Workers,
    check_outcome,
    counts,
    expected_done,
    report,
    wait_for,
)
from timeline.db import upgrade
from timeline.feeds.store import FEEDS

pytestmark = [pytest.mark.reliability, pytest.mark.postgres]
HOSTILE_ITEMS = 5


def _hostile(kind: str) -> bytes:
    titles = {
        "surrogates": [f"{FEED_RULE_WORD} lone &#xD800; surrogate {i}, nul &#0; too" for i in range(HOSTILE_ITEMS)],
        "refused": [f"{FEED_RULE_WORD} item that will explode {i}" for i in range(HOSTILE_ITEMS)],
    }[kind]
    items = "".join(f"<item><title>{t}</title><guid>urn:{kind}:{i}</guid></item>" for i, t in enumerate(titles))
    return f'<rss version="2.0"><channel><title>{kind}</title>{items}</channel></rss>'.encode()


@pytest.mark.timeout(90)
def test_hostile_feeds_beside_good_ones_lose_and_duplicate_nothing(
    make: Callable[..., tuple[Scenario, Workers]], db: Engine
) -> None:
    scenario, workers = make(milestones=50, items=200)
    upgrade(db)
    with db.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION refuse_write() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'refused by a test trigger'; END $$ LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse_entry BEFORE INSERT ON feed_entries FOR EACH ROW "
                "WHEN (NEW.title LIKE '%explode%') EXECUTE FUNCTION refuse_write()"
            )
        )
    for kind in ("surrogates", "refused"):
        scenario.feeds.documents[f"/{kind}.xml"] = _hostile(kind)
        with (scenario.folder / "feeds.yaml").open("a") as config:
            config.write(
                f"  - id: {kind}\n    url: '{scenario.feeds.url(f'/{kind}.xml')}'\n"
                f"    match: {{any: [{FEED_RULE_WORD}]}}\n    notify_backlog: true\n"
            )
    scenario.items += HOSTILE_ITEMS  # the surrogate feed's items are news like any other
    scenario.receiver.start()
    workers.wait_running(workers.start(2))
    try:
        wait_for(expected_done(db, scenario), 60, "everything delivered")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; {counts(db)}; worker errors: {workers.errors()[:5]}") from None
    summary = check_outcome(db, scenario)  # each notice once, each delivery delivered, no stray type
    with db.connect() as conn:
        states = {
            r.id: (r.status, r.last_error) for r in conn.execute(select(FEEDS.c.id, FEEDS.c.status, FEEDS.c.last_error))
        }
    assert states["refused"][0] == "error" and "refused by a test trigger" in (states["refused"][1] or "")
    assert states["surrogates"] == ("ok", None)
    assert all(states[f"feed-{f}"] == ("ok", None) for f in range(4))
    summary["hostile feeds"] = 2
    report("hostile feeds beside good ones", summary)
