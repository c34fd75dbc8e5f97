"""Waking the delivery job when notices are created, on PostgreSQL (LISTEN/NOTIFY).

`alerts.notices.publish` notifies `alerts.notices.CHANNEL` in the transaction that creates notices,
so every listening worker hears of them when they are committed, whichever process published them
(a scan, a feed poll, the API). The periodic tick stays the fallback: while the listening connection
is down nothing is lost, deliveries only wait for the tick.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

log = logging.getLogger(__name__)
RETRY_FIRST, RETRY_MAX = 1.0, 30.0
"""Seconds before connecting again after the listening connection failed (doubling up to the max)."""
_POLL = 1.0


def conninfo(engine: Engine) -> str:
    """The libpq URL of `engine`'s database (its SQLAlchemy URL without the driver name)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def listen(url: str, channel: str, wake: Callable[[], None], stop: threading.Event) -> None:
    """Call `wake` whenever `channel` is notified, until `stop` is set. Runs in its own thread on
    its own connection; a lost connection is opened again, and `wake` is called once it listens
    again (notices created in between were not heard)."""
    # Imported here: a worker on SQLite never loads the PostgreSQL driver and its memory
    # (docs/design.md#listennotify-wake-ups).
    import psycopg
    from psycopg import sql

    def wake_safely() -> None:
        try:
            wake()
        except Exception:
            log.exception("waking the delivery job failed; it runs at its next tick")

    delay = RETRY_FIRST
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                log.info("listening for new notices", extra={"channel": channel})
                delay = RETRY_FIRST
                wake_safely()
                while not stop.is_set():
                    if any(True for _ in conn.notifies(timeout=_POLL, stop_after=1)):
                        wake_safely()
        except psycopg.Error as exc:
            log.warning("listening for new notices failed (%s); again in %.0f s", exc, delay)
            stop.wait(delay)
            delay = min(delay * 2, RETRY_MAX)
