"""How hostile input is held back: the classifier's sample, the realtime cap, and what a reply may promise."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from nightshift.safety.outbound import ReplyPolicy


class SafetyPolicy(dg.ConfigurableResource):
    """The safety stage's knobs; the pre-filter itself has none (see safety.screening)."""

    sample_share: float = Field(default=0.05, description="Share of the tickets the pre-filter passed that the safety "
                                "classifier reads anyway, to measure what the pre-filter misses.")
    realtime_cap: float = Field(default=0.05, description="The most of a day's tickets answered realtime, at full price; the "
                                "rest go to the frontier batch with the reason.")
    max_refund: float = Field(default=50.0, description="The most money a drafted reply may promise; above it a person answers.")
    money_routes: str = Field(default="frontier,realtime", description="Routes whose replies may promise money at all.")

    def reply_policy(self) -> ReplyPolicy:
        return ReplyPolicy(self.max_refund, frozenset(r.strip() for r in self.money_routes.split(",") if r.strip()))
