"""The API accepts exactly the formats and delivery statuses that alerts knows: each list is written
once on each side of the boundary, and these tests keep the two sides equal."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import TypeAdapter, ValidationError

from alerts.statements import STATUSES as DELIVERY_STATUSES
from alerts.subscription_fields import SUBSCRIPTION_FORMATS as FORMATS
from timeline.config.subscriptions import SubscriptionEntry
from timeline.web.schemas_alerts import DeliveryStatus, Format


def test_subscription_formats_are_the_ones_alerts_renders() -> None:
    assert get_args(Format) == FORMATS
    for name in FORMATS:
        assert SubscriptionEntry(id="s", url="https://example.test/hook", format=name).format == name  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        SubscriptionEntry.model_validate({"id": "s", "url": "https://example.test/hook", "format": "teams"})


def test_delivery_statuses_are_the_outbox_statuses() -> None:
    assert get_args(DeliveryStatus) == DELIVERY_STATUSES
    adapter = TypeAdapter(DeliveryStatus)
    assert [adapter.validate_python(s) for s in DELIVERY_STATUSES] == list(DELIVERY_STATUSES)
    with pytest.raises(ValidationError):
        adapter.validate_python("sent")
