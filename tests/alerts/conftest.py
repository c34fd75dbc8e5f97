"""Fixtures of the alerts tests: a recording receiver on 127.0.0.1 and configs that allow it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from alerts.config import AlertsConfig
from tests.alerts.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


@pytest.fixture
def config() -> AlertsConfig:
    """Loopback allowed explicitly (the guard's only concession in these tests), short timeouts."""
    return AlertsConfig(allow_private=True, timeout=timedelta(seconds=3), lease=timedelta(seconds=30))
