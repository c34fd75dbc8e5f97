"""A notice to publish, as the service that raises it describes it: pure data, no storage (so that
the pure decisions that make notices import no database). `alerts.notices.publish` stores them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NewNotice:
    """A notice to publish. `payload` is the webhook body: `{"type", "timestamp", "data"}`."""

    type: str
    key: str
    occurred_at: datetime
    data: dict[str, Any]
    subjects: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "timestamp": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }
        # Round-trip through JSON so that what is stored is exactly what will be sent.
        return dict(json.loads(json.dumps(body, default=str)))
