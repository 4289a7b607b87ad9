"""How much of each night is spent measuring the cheap answers, and the quality they must keep."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from nightshift.triage.tightening import QualityBounds


class QualityPolicy(dg.ConfigurableResource):
    """Shadow sampling, the judge's target and how far routing may tighten when a cheap route misses it."""

    # 0.05 is what the route needs when it agrees in full: 35 of 35 judged, the least that also clears a 0.90 target.
    half_width: float = Field(default=0.05, description="Each cheap route is sampled for a 95% interval of about this "
                              "half-width over the window.")
    shadow_share: float = Field(default=0.0, description="At least this share of each night's cache and small-model "
                                "tickets is also asked of the frontier model and judged.")
    # A route is never unwatched for a night, whatever its window already holds.
    shadow_min: int = Field(default=2, description="At least this many per cheap route and night (or all there are).")
    # A first week fills the window in four nights, at the frontier price and the judge's each.
    shadow_max: int = Field(default=10, description="At most this many per cheap route and night (0: no limit).")
    target: float = Field(default=0.90, description="Agreement with the frontier model a cheap route must keep.")
    window_days: int = Field(default=7, description="Days of verdicts the rolling figure, the check and the tightening read.")
    max_cache_threshold: float = Field(default=0.99, description="The highest the cache threshold may be tightened to.")
    max_min_confidence: float = Field(default=0.95, description="The highest the small model's minimum confidence may be tightened to.")
    max_probes: int = Field(default=10, description="The most tickets of a gated category sent to its route a night to measure it again.")

    def bounds(self) -> QualityBounds:
        return QualityBounds(self.target, self.max_cache_threshold, self.max_min_confidence, self.max_probes)
