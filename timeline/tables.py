"""The table registry: importing this module registers every table of the service in
`SQLModel.metadata`, for the migrations and the schema tests. Nothing else needs it; `timeline.db`
knows engines and migrations, not which rooms own tables."""

from __future__ import annotations

from sqlmodel import SQLModel

import alerts.models
import timeline.feeds.models
import timeline.models
import timeline.proposals.models

MODEL_MODULES = (alerts.models, timeline.models, timeline.feeds.models, timeline.proposals.models)
metadata = SQLModel.metadata
