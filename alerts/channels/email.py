"""The email channel (`format: email`): the notice's message as a multipart email over SMTP.

The subscription's `url` is `mailto:` and its addresses. Composing is `alerts.mail.compose`; the
blocking SMTP exchange (`alerts.mail.send_mail`) runs in this channel's bounded thread pool, off
the event loop. A refusal of every recipient with 550, 551 or 553 is permanent (the subscription is
disabled, as for an HTTP 410); any other failure is retried by the outbox.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from alerts.channel_fields import addresses
from alerts.config import AlertsConfig
from alerts.mail import SmtpServer, compose, parse_smtp_url, permanent_refusal, send_mail
from alerts.message import message_of
from alerts.policy import AttemptResult
from alerts.statements import Claimed

EMAIL_FORMATS = ("email",)


class EmailChannel:
    """The `Channel` (see `alerts.channels`) for format `email`."""

    def __init__(self, config: AlertsConfig) -> None:
        self.config = config
        parsed = parse_smtp_url(config.smtp_url) if config.smtp_url else None
        self._server: SmtpServer | None = parsed if isinstance(parsed, SmtpServer) else None
        self._pool: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        self._pool = ThreadPoolExecutor(self.config.channel_threads, thread_name_prefix="smtp")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def send(self, delivery: Claimed, seconds: int) -> AttemptResult:
        if self._server is None or not self.config.mail_from:
            return AttemptResult(None, 0.0, error="email is not set up here: no SMTP server or no From address")
        to = addresses(delivery.url)
        if not to:
            return AttemptResult(None, 0.0, error="the subscription names no address", permanent=True)
        mail = compose(
            message_of(_payload(delivery.payload_json)),
            webhook_id=delivery.webhook_id,
            sender=self.config.mail_from,
            to=to,
            unsubscribe=self._unsubscribe(delivery.subscription_id),
            sent_at=seconds,
        )
        timeout = delivery.timeout_seconds or self.config.timeout.total_seconds()
        result = await asyncio.get_running_loop().run_in_executor(self._pool, send_mail, self._server, mail, timeout)
        return result._replace(permanent=True) if permanent_refusal(result) else result

    def _unsubscribe(self, subscription_id: str) -> str | None:
        base = self.config.public_url
        return f"{base.rstrip('/')}/api/subscriptions/{quote(subscription_id, safe='')}" if base else None


def _payload(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
