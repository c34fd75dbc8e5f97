"""Feed watching: poll RSS, Atom and JSON feeds like a good feed reader, link matching items to milestones.

Modules, from the pure core to the edge:
- `text`: cleaning and plain text, `match`: rules, `decide`: what to do after a response,
  `items`: what is stored of an item, `plan`: what storing a document will do (feeds.yaml itself
  is `timeline.config.feeds`);
- `readers`, `jsonfeed`, `parse`: fetched bytes into normalised entries (feedparser-rs, feedparser
  as the fallback, JSON Feed);
- `models`: tables, `store`: feed rows (`sync_feeds`, claims, state), `ingest`: writing a plan
  (entries, notices, evidence), `evidence`: reading it a page at a time, `health`: `feed_health`;
- `fetch`: HTTP (aiohttp, behind the SSRF guard), `writer`: storing a batch of polls, each feed in
  its own error boundary, `poll`: `poll_due`, the orchestration, `report`: what a run reports;
- `opml`: import and export.

This package imports nothing on purpose: `timeline.db` imports `timeline.feeds.models`.
"""
