"""Where trained models and the price table come from."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from nightshift.llm.pricing import PriceTable, load_prices, parse_routes
from nightshift.triage.artifact import ModelStore
from nightshift.triage.window import TrainingWindow


class TriageModelStore(dg.ConfigurableResource):
    """A directory of versioned triage-model artifacts."""

    root: str = Field(description="Directory holding triage-<version>.joblib and a day-<date>.json pointer per day.")
    per_label: int = Field(default=200, description="Latest labelled tickets per label the nightly model trains on.")
    window_days: int = Field(default=90, description="Days of history the nightly model may learn from.")
    retrain_share: float = Field(default=0.2, description="Retrain once this share of the window is new to the current model.")

    def store(self) -> ModelStore:
        return ModelStore(Path(self.root))

    def window(self) -> TrainingWindow:
        return TrainingWindow(self.per_label, self.window_days, self.retrain_share)


class Prices(dg.ConfigurableResource):
    """The dated price table: the packaged one, or a JSON file of the same shape."""

    path: str | None = Field(default=None, description="Price table JSON; empty for the packaged table.")
    routes: str = Field(default="", description="Models for some routes, route=model,route=model (each priced in the "
                        "table); a model's provider answers its route, e.g. frontier=claude-sonnet-5-5 sends the frontier "
                        "route to Anthropic. Empty: the table's own routes.")

    def table(self) -> PriceTable:
        return load_prices(self.path).with_routes(parse_routes(self.routes))
