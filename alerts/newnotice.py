"""A notice to publish, as the service that raises it describes it: pure data, no storage (so that
the pure decisions that make notices import no database). `alerts.notices.publish` stores them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from alerts.message import OWN_TYPES, own_message


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
        """The body; a notice of this package's own (`subscription.disabled`) gains its message."""
        data = self.data
        if self.type in OWN_TYPES and "message" not in data:
            data = {**data, "message": own_message(self.type, data).as_dict()}
        body: dict[str, Any] = {
            "type": self.type,
            "timestamp": self.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": data,
        }
        # Round-trip through JSON so that what is stored is exactly what will be sent.
        return dict(json.loads(json.dumps(body, default=str)))
