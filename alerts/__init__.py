"""A self-contained notification engine.

`alerts` takes notices (type, key, time, payload) and delivers them to webhook subscribers through a
durable outbox. It knows nothing of milestones or feeds: `timeline` imports `alerts`, never the reverse.

Where things are:
- `notices.publish`: the way in (idempotent by key).
- `subscriptions`: create, list, get, update, delete, rotate_secret, sync_config_subscriptions.
- `delivery.deliver_once` / `run_deliveries`: one pass of fan-out, claim, send, record; `send_test`.
- `deliveries`: list_deliveries, get_delivery, retry_delivery, recover.
- `outbox` (fan_out, claim, record), `policy` (pure decisions), `signing`, `formats`, `guard`.
- `config.AlertsConfig`: the plain settings `timeline` builds from its own.
"""
