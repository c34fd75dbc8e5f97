"""Feed watching: poll RSS/Atom feeds like a good feed reader, link matching items to milestones.

Modules, from the pure core to the edge:
- `match`: rules, `decide`: what to do after a response (feeds.yaml itself is `timeline.config.feeds`);
- `parse`: feedparser on fetched bytes, into normalised entries;
- `models`: tables, `store`: feed rows (`sync_feeds`, claims, state), `ingest`: entries, notices
  and evidence (`evidence_for`), `health`: `feed_health`;
- `fetch`: HTTP (aiohttp, behind the SSRF guard), `poll`: `poll_due`, the orchestration;
- `opml`: import and export.

This package imports nothing on purpose: `timeline.db` imports `timeline.feeds.models`.
"""
