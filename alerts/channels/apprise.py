"""The Apprise channel (`format: apprise`): the notice's message to the service the subscription's
Apprise URL names (`alerts.apprise_send`), one attempt per call, in this channel's bounded thread
pool (Apprise's calls block). The address guard is applied to every connection a plugin opens."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

from alerts.apprise_send import send_apprise
from alerts.config import AlertsConfig
from alerts.message import message_of
from alerts.policy import AttemptResult
from alerts.statements import Claimed

APPRISE_FORMATS = ("apprise",)


class AppriseChannel:
    """The `Channel` (see `alerts.channels`) for format `apprise`."""

    def __init__(self, config: AlertsConfig) -> None:
        self.config = config
        self._pool: ThreadPoolExecutor | None = None

    async def open(self) -> None:
        self._pool = ThreadPoolExecutor(self.config.channel_threads, thread_name_prefix="apprise")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def send(self, delivery: Claimed, seconds: int) -> AttemptResult:
        try:
            payload = json.loads(delivery.payload_json)
        except ValueError:
            payload = None
        timeout = delivery.timeout_seconds or self.config.timeout.total_seconds()
        loop = asyncio.get_running_loop()
        message = message_of(payload)
        return await loop.run_in_executor(self._pool, send_apprise, delivery.url, message, self.config.policy, timeout)
