"""The loop that closes: a cheap route measured under its quality target gets fewer tickets the next night.

Each cheap route has one knob: the cache its similarity threshold, the small model the triage confidence it needs.
A route is under target when the upper bound of its agreement interval (trailing days, from the judge) is below the
target, so a few unlucky samples do not move anything. Its knob then moves toward its bound by the shortfall over the
error the target tolerates (1 - target): all the way once the shortfall is that large. Nothing is remembered between
nights; the next night measures again, and a route back on target gets its configured knob back.

A knob moves only the tickets near it (a small model sure of everything keeps them all), so a route is also gated per
category: a category whose judged answers on that route lie wholly under the target goes elsewhere for the night. A
gated route answers nothing of that category, so nothing new would be measured there: each night a few of the tickets
the gate moved go to it anyway as probes, judged before they are given (the frontier's answer is given in place of one
found wrong), as many as could lift the gate tonight if all agree, up to a quarter of those it moved. The gate lifts
when that evidence clears it, or when the window no longer holds the evidence that set it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from nightshift.lib.stats import Share, wilson
from nightshift.triage.routing import CACHE, SMALL, Decision, RoutingConfig, Signals, Tightened, decide


@dataclass(frozen=True)
class QualityBounds:
    target: float = 0.90               # agreement with the frontier model a cheap route must keep
    max_cache_threshold: float = 0.99  # the tightest the cache may get (1.0 would only serve duplicates)
    max_min_confidence: float = 0.95   # the most triage confidence the small model may ask for
    max_probes: int = 10               # the most tickets a gated (route, category) is sent a night to measure it again
    probe_share: float = 0.25          # and the most of the tickets its gate moved (at least one): the gate still moves most


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


def probes_needed(share: Share, target: float, most: int) -> int:
    """How many judged answers, all agreeing, would bring ``share``'s upper bound up to ``target``: at most ``most``."""
    return next((k for k in range(1, most) if wilson(share.hits + k, share.n + k).high >= target), most)


def gate_probes(signals: list[Signals], ids: list[str], config: RoutingConfig, by_category: dict[tuple[str, str], Share],
                bounds: QualityBounds) -> dict[int, Decision]:
    """Per gated (route, category), the tickets the gate moved that go to the route anyway as probes (by ticket index):
    as many as ``probes_needed`` says and ``probe_share`` allows, chosen by a hash of the ticket id (a rerun of the day
    picks the same); a ticket probes one route at most."""
    picked: dict[int, Decision] = {}
    for key, why in sorted(config.gated.items()):
        ungated = replace(config, gated={k: w for k, w in config.gated.items() if k != key})
        moved = {i: d for i, s in enumerate(signals) if s.category == key[1] and i not in picked and (d := decide(s, ungated)).route == key[0]}
        wanted = min(probes_needed(by_category[key], bounds.target, bounds.max_probes), max(1, int(bounds.probe_share * len(moved))))
        # The quality room's sample ranks by the same hash; this room may not import it (see the layout test).
        for i in sorted(moved, key=lambda i: hashlib.sha256(ids[i].encode()).hexdigest())[:wanted]:
            picked[i] = Decision(key[0], f"{moved[i].reason}; probe of the gate ({why}): judged before it is given")
    return picked
