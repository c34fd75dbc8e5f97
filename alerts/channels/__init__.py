"""Channels: how a prepared delivery leaves the outbox. The delivery loop calls this interface only.

A channel sends one delivery and says how it went::

    class Channel(Protocol):
        async def open(self) -> None          # before the first send of a pass (sessions, pools)
        async def close(self) -> None         # after the last
        async def send(self, delivery: Claimed, seconds: int) -> AttemptResult

- `delivery` is a claimed row (`alerts.statements.Claimed`): its `format`, target `url`, the
  notice's type and stored payload (`payload_json`), its `webhook_id` (the same on every retry), the
  subscription's signing `keys`, `concurrency` and `timeout_seconds`. `seconds` is the Unix time to
  sign with (a queued delivery is signed as it leaves).
- `send` never raises for the failure of one attempt: it returns an `AttemptResult` with
  `status_code` (the target's answer, if any), `error` (text for people: what went wrong),
  `retry_after` (the target's own wait, as it gave it: `alerts.headers.retry_after` reads it),
  `timed_out`, and `permanent` (retrying cannot help: the delivery is dead and the subscription is
  disabled with `error` as the reason, as for an HTTP 410). An exception out of `send` is a bug:
  the pass fails and the delivery's lease brings it back.
- Retries, leases, dead letters, the attempt log and concurrency limits belong to the outbox: a
  channel makes exactly one attempt per call, and must not retry by itself.

The channel is chosen per subscription `format` from `REGISTRY` (format -> factory taking the
`AlertsConfig`); `register` adds one. A pass opens each channel it needs once (`Channels`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Protocol

from alerts.config import AlertsConfig
from alerts.policy import AttemptResult
from alerts.statements import Claimed


class Channel(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, delivery: Claimed, seconds: int) -> AttemptResult: ...


ChannelFactory = Callable[[AlertsConfig], Channel]
REGISTRY: dict[str, ChannelFactory] = {}


def register(formats: tuple[str, ...], factory: ChannelFactory) -> None:
    """Send the deliveries of subscriptions of these `formats` through channels `factory` makes."""
    for fmt in formats:
        REGISTRY[fmt] = factory


class Channels:
    """The channels of one delivery pass: each made and opened on first use (one instance per
    factory, whichever formats share it), closed together. Use as an async context manager."""

    def __init__(self, config: AlertsConfig, registry: Mapping[str, ChannelFactory] | None = None) -> None:
        self.config = config
        self._registry = dict(REGISTRY if registry is None else registry)
        self._open: dict[ChannelFactory, Channel] = {}
        self._opening = asyncio.Lock()

    async def __aenter__(self) -> Channels:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        opened, self._open = list(self._open.values()), {}
        for channel in opened:
            await channel.close()

    async def send(self, delivery: Claimed, seconds: int) -> AttemptResult:
        """Send `delivery` through its format's channel (never raises for an unknown format: that is
        a failed attempt saying so)."""
        factory = self._registry.get(delivery.format)
        if factory is None:
            return AttemptResult(None, 0.0, error=f"no channel sends format {delivery.format!r}")
        channel = self._open.get(factory)
        if channel is None:
            channel = await self._opened(factory)
        return await channel.send(delivery, seconds)

    async def _opened(self, factory: ChannelFactory) -> Channel:
        async with self._opening:  # senders of several subscriptions may ask at once
            channel = self._open.get(factory)
            if channel is None:
                channel = factory(self.config)
                await channel.open()
                self._open[factory] = channel
            return channel


def _defaults() -> None:
    from alerts.channels.apprise import APPRISE_FORMATS, AppriseChannel
    from alerts.channels.email import EMAIL_FORMATS, EmailChannel
    from alerts.channels.webhook import WEBHOOK_FORMATS, WebhookChannel

    register(WEBHOOK_FORMATS, WebhookChannel)
    register(EMAIL_FORMATS, EmailChannel)
    register(APPRISE_FORMATS, AppriseChannel)


_defaults()
