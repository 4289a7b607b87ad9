"""Where trained models and the price table come from."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from nightshift.llm.pricing import PriceTable, load_prices
from nightshift.triage.artifact import ModelStore


class TriageModelStore(dg.ConfigurableResource):
    """A directory of versioned triage-model artifacts."""

    root: str = Field(description="Directory holding triage-<version>.joblib and triage-latest.json.")

    def store(self) -> ModelStore:
        return ModelStore(Path(self.root))


class Prices(dg.ConfigurableResource):
    """The dated price table: the packaged one, or a JSON file of the same shape."""

    path: str | None = Field(default=None, description="Price table JSON; empty for the packaged table.")

    def table(self) -> PriceTable:
        return load_prices(self.path)
