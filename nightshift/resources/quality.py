"""How much of each night is spent measuring the cheap answers, and the quality they must keep."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from nightshift.triage.tightening import QualityBounds


class QualityPolicy(dg.ConfigurableResource):
    """Shadow sampling, the judge's target and how far routing may tighten when a cheap route misses it."""

    shadow_share: float = Field(default=0.05, description="Share of each night's cache and small-model tickets also asked of "
                                "the frontier model and judged.")
    # 5 a night fill a week's window with the 35 that can, all agreeing, clear a 0.90 target at 95%.
    shadow_min: int = Field(default=5, description="At least this many per cheap route and night (or all there are).")
    # The check needs about 35 judged a week to vouch for 0.90; 10 a night is twice that, at the frontier price each.
    shadow_max: int = Field(default=10, description="At most this many per cheap route and night (0: no limit).")
    target: float = Field(default=0.90, description="Agreement with the frontier model a cheap route must keep.")
    window_days: int = Field(default=7, description="Days of verdicts the rolling figure, the check and the tightening read.")
    max_cache_threshold: float = Field(default=0.99, description="The highest the cache threshold may be tightened to.")
    max_min_confidence: float = Field(default=0.95, description="The highest the small model's minimum confidence may be tightened to.")
    max_probes: int = Field(default=10, description="The most tickets of a gated category sent to its route a night to measure it again.")

    def bounds(self) -> QualityBounds:
        return QualityBounds(self.target, self.max_cache_threshold, self.max_min_confidence, self.max_probes)
