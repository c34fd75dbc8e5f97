"""The payload schemas of the OpenAPI `webhooks` section describe what is really sent: the golden
notice of every type (made by the code that makes it) validates against its type's schema."""

from __future__ import annotations

import pytest

from tests.alerts.golden import payloads
from timeline.web.webhooks import _payload

PAYLOADS = payloads()


@pytest.mark.parametrize("notice_type", sorted(PAYLOADS))
def test_a_real_notice_matches_its_documented_payload(notice_type: str) -> None:
    payload = PAYLOADS[notice_type]
    model = _payload(notice_type)
    parsed = model.model_validate(payload)
    assert parsed.model_dump(mode="json")["type"] == notice_type
    with pytest.raises(ValueError):
        model.model_validate(payload | {"type": "other.type"})
