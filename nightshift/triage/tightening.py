"""The loop that closes: a cheap route measured under its quality target gets fewer tickets the next night.

Each cheap route has one knob: the cache its similarity threshold, the small model the triage confidence it needs.
A route is under target when the upper bound of its agreement interval (trailing days, from the judge) is below the
target, so a few unlucky samples do not move anything. Its knob then moves toward its bound by the shortfall over the
error the target tolerates (1 - target): all the way once the shortfall is that large. Nothing is remembered between
nights; the next night measures again, and a route back on target gets its configured knob back.

A knob moves only the tickets near it (a small model sure of everything keeps them all), so a route is also gated per
category: a category whose judged answers on that route lie wholly under the target goes elsewhere for the night. It
comes back when the window no longer holds that evidence, or when new judged answers (the cache's probes, the other
route's) lift it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from nightshift.lib.stats import Share
from nightshift.triage.routing import CACHE, SMALL, RoutingConfig, Tightened


@dataclass(frozen=True)
class QualityBounds:
    target: float = 0.90               # agreement with the frontier model a cheap route must keep
    max_cache_threshold: float = 0.99  # the tightest the cache may get (1.0 would only serve duplicates)
    max_min_confidence: float = 0.95   # the most triage confidence the small model may ask for


def knobs(bounds: QualityBounds) -> dict[str, tuple[str, float]]:
    return {CACHE: ("cache_threshold", bounds.max_cache_threshold), SMALL: ("min_confidence", bounds.max_min_confidence)}


def tighten(config: RoutingConfig, measured: dict[str, Share], bounds: QualityBounds, window: str) -> RoutingConfig:
    """``config`` with the knob of every route in ``measured`` that is under target moved; ``window`` names the days."""
    moved = []
    for route, (knob, bound) in knobs(bounds).items():
        share = measured.get(route)
        if share is None or share.rate is None or share.high >= bounds.target:
            continue
        before = getattr(config, knob)
        if before >= bound:
            continue
        pull = min(1.0, (bounds.target - share.rate) / (1 - bounds.target))
        after = round(before + (bound - before) * pull, 3)
        moved.append(Tightened(knob, before, after, f"{knob} raised {before:.2f} -> {after:.2f}: {route} agreed {share.hits}/{share.n} "
                                                    f"[{share.low:.2f}, {share.high:.2f}] {window}, target {bounds.target:.2f}"))
    for t in moved:
        config = replace(config, **{t.knob: t.after})  # type: ignore[arg-type]  # knobs are the float fields
    return replace(config, tightened=tuple(moved)) if moved else config


def gate(config: RoutingConfig, by_category: dict[tuple[str, str], Share], bounds: QualityBounds, window: str) -> RoutingConfig:
    """``config`` with every (route, category) whose judged agreement lies wholly under the target gated, and why."""
    gated = {key: f"{key[0]} gated for {key[1]}: agreed {share.hits}/{share.n} [{share.low:.2f}, {share.high:.2f}] {window}, "
                  f"target {bounds.target:.2f}"
             for key, share in sorted(by_category.items()) if share.n and share.high < bounds.target and key[0] in (CACHE, SMALL)}
    return replace(config, gated=gated) if gated else config
