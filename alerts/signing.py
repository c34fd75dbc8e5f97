"""Standard Webhooks signing (https://www.standardwebhooks.com).

A secret is `whsec_` + base64 of random bytes. A signature is `v1,` + base64 of the HMAC-SHA256,
keyed with those bytes, of `{webhook-id}.{webhook-timestamp}.{body}`; the signature header carries
one per secret in use, space-separated: two during the overlap after a rotation. The tests check
every signature against the reference library (`standardwebhooks`), which receivers can use.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from alerts.errors import SubscriptionError

PREFIX = "whsec_"
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64


def new_secret() -> str:
    """A fresh signing secret: `whsec_` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_webhook_id() -> str:
    """A `webhook-id`: unique per delivery, kept across its retries and redeliveries. `msg_` + 32 hex
    digits: the milliseconds since 1970 (12), then 80 random bits. Ids made later sort later, so
    the unique index on them grows at one end, as the deliveries table does: with wholly random
    ids each new delivery wrote to a random page of that index (an index page per delivery into
    SQLite's WAL or PostgreSQL's)."""
    return f"msg_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


def check_secret(secret: str, *, field: str = "secret") -> str:
    """`secret` if it is `whsec_` + base64 of 24 to 64 bytes; SubscriptionError otherwise."""
    if not secret.startswith(PREFIX):
        raise SubscriptionError(f"a signing secret starts with {PREFIX!r}", field=field)
    try:
        raw = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise SubscriptionError("a signing secret is whsec_ followed by base64", field=field) from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise SubscriptionError(
            f"a signing secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, this one {len(raw)}", field=field
        )
    return secret


@lru_cache(maxsize=1024)
def _key(secret: str) -> bytes:
    """The HMAC key of a secret: the bytes its base64 holds (padded, as the reference library does)."""
    return base64.b64decode(secret.removeprefix(PREFIX) + "==")


def _signature(msg_id: str, seconds: str, body: str, keys: Sequence[str]) -> str:
    signed = f"{msg_id}.{seconds}.{body}".encode()
    return " ".join("v1," + base64.b64encode(hmac.digest(_key(key), signed, "sha256")).decode() for key in keys)


def signature(msg_id: str, timestamp: datetime, body: str, keys: Sequence[str]) -> str:
    """The `webhook-signature` value: `v1,<sig>` for each secret in `keys`, space-separated."""
    return _signature(msg_id, str(int(timestamp.timestamp())), body, keys)


def headers(msg_id: str, seconds: int, body: str, keys: Sequence[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for `body` sent as `msg_id` at `seconds` (Unix time)."""
    stamp = str(seconds)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": stamp,
        "webhook-signature": _signature(msg_id, stamp, body, keys),
    }


def signing_keys(
    secret: str | None, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> tuple[str, ...]:
    """The secrets to sign with: the current one, and the previous one until its overlap ends."""
    keys = [secret] if secret else []
    if previous and previous_expires_at is not None and previous_expires_at > now:
        keys.append(previous)
    return tuple(keys)
