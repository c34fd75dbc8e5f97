"""A self-contained notification engine.

`alerts` takes notices (type, key, time, payload) and delivers them to webhook subscribers through a
durable outbox. It knows nothing of milestones or feeds: `timeline` imports `alerts`, never the reverse.
"""
