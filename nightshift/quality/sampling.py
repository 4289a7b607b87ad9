"""Which cheap answers are also asked of the frontier model tonight: the shadow sample.

Per cheap route (cache, small model) an even nightly share of what the window's interval needs to be about
+-half_width (estimate.nightly_sample: the rate measured so far sets the spread, and the signals' correlation with the
judge's verdicts lowers the count where PPI++ can use them), never fewer than a minimum (or all there are) and never
more than a maximum: the interval narrows with the count judged, not with the share, and each sample costs the frontier
price and the judge's, about 0.9 of what the baseline pays for a whole ticket. A configured share raises the floor.
The pick ranks tickets by a hash of their id, so a rerun of the day samples the same tickets and sends nothing new.

Probes are shadowed beyond that, whatever their number: the serves of cache entries on probation and the tickets sent
to a route gated for their category, every one judged before it is given. The cache route's sample of the rest takes
the entries with the fewest judged serves on record: the judge's budget buys the most where least is known. The small
model's is drawn in bands of triage's confidence, more where it is lower (Neyman's allocation: a band's share of the
sample goes with its size times sqrt(c (1 - c)), c its mean confidence, the spread of verdicts that confidence
foretells, capped at TILT times the surest band's), at least one from each band; a band expecting under one draw
of the count is drawn with the next surer one (``merged``). Each answer's chance of being picked is known from the
bands (``inclusion``), so the estimate weighs the sample back and stays unbiased.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict

from nightshift.triage.routing import CACHE, SMALL

SHADOWED_ROUTES = (CACHE, SMALL)
# Edges of the small model's confidence bands: under 0.8 it is unsure, from 0.95 sure (triage's own floor is 0.6).
BANDS = (0.8, 0.95)
# The most a band's answers are favoured over the surest band's. Unequal weights cost effective size, and when every
# judged answer agrees (no spread for PPI++ to use) the interval comes from it: on Bitext a forced draw from a band of
# 11 unsure answers in 633 left a week's 40 judged worth 14.5, +-0.11, where 40 drawn alike give +-0.045 (hence
# ``merged`` too). At 2 the effective size stays above about 0.9 of the count.
TILT = 2.0


def rank(ticket_id: str) -> str:
    return hashlib.sha256(ticket_id.encode()).hexdigest()


def shadow_sample(triaged: list[dict], share: float, minimum: int, maximum: int | None = None,
                  wanted: dict[str, int] | None = None) -> list[dict]:
    """The triaged rows (ticket_id, route, ...) to shadow: every probe (rows with ``probe`` true), and per cheap route
    of the n others ``wanted[route]`` (see estimate.nightly_sample) or ceil(share x n), whichever is more, at least
    ``minimum``, at most ``maximum``."""
    by_route: dict[str, list[dict]] = defaultdict(list)
    for row in triaged:
        if row["route"] in SHADOWED_ROUTES:
            by_route[row["route"]].append(row)
    picked = []
    for route in SHADOWED_ROUTES:
        rows = sorted(by_route[route], key=lambda r: (*order(r), rank(r["ticket_id"])))
        probes = [r for r in rows if r.get("probe")]
        rest = rows[len(probes):]
        # The budget is for the rest: the probes measure what is on trial, the rest the route as it stands.
        count = max(math.ceil(share * len(rest)), minimum, (wanted or {}).get(route, 0))
        count = min(count, maximum) if maximum is not None else count
        if route == SMALL:
            bands: dict[int, list[dict]] = defaultdict(list)
            joined = merged(Counter(band(r) for r in rest), count)
            for r in rest:
                bands[joined[band(r)]].append(r)
            keys = sorted(bands)
            means = [min(0.999, max(0.5, sum(confidence(r) for r in bands[k]) / len(bands[k]))) for k in keys]
            spreads = [math.sqrt(c * (1 - c)) for c in means]
            tilt = [min(TILT, s / min(spreads)) for s in spreads]
            given = allocate([len(bands[k]) for k in keys], [len(bands[k]) * t for k, t in zip(keys, tilt)], count)
            picked += probes + [r for k, n in zip(keys, given) for r in bands[k][:n]]
        else:
            picked += probes + rest[:count]
    return picked


def allocate(sizes: list[int], weights: list[float], count: int) -> list[int]:
    """``count`` draws shared among bands of ``sizes`` in proportion to ``weights`` (one at a time, each to the band with
    the most weight per draw it would then have), one to every band first while the count allows, none past a band's size."""
    given = [0] * len(sizes)
    first = sorted((i for i, n in enumerate(sizes) if n), key=lambda i: -weights[i])
    for i in first[:count]:
        given[i] = 1
    for _ in range(min(count, sum(sizes)) - sum(given)):
        open_bands = [i for i, n in enumerate(sizes) if given[i] < n]
        given[max(open_bands, key=lambda i: weights[i] / (given[i] + 1))] += 1
    return given


def merged(sizes: Counter, count: int) -> dict[int, int]:
    """Each band mapped to the band it is drawn with: bands from the least sure up join the next until together they
    expect a whole draw of ``count`` drawn alike (a band of 11 of 633 answers is no band for 10 draws: one draw from it
    would favour it 6 times over); a surest band left too thin joins the one below it."""
    total, groups, waiting = sum(sizes.values()), [], []
    for key in sorted(sizes):
        waiting.append(key)
        if sum(sizes[k] for k in waiting) * count >= total:
            groups.append(waiting)
            waiting = []
    if waiting and groups:  # a surest band too thin for a draw of its own joins the band below it
        groups[-1] += waiting
    elif waiting:
        groups.append(waiting)
    return {k: group[-1] for group in groups for k in group}


def confidence(row: dict) -> float:
    return float(row.get("confidence") or 0.0)


def band(row: dict) -> int:
    """The small model's confidence band of an answer (0: under the first edge); 0 for the cache, drawn by its own rule."""
    return sum(confidence(row) >= edge for edge in BANDS) if row.get("route") == SMALL else 0


def inclusion(rows: list[dict]) -> list[float]:
    """Each row's chance of having been shadowed under shadow_sample's design, from what was: rows of one route and day
    (``sampled``: it was; ``route``, ``probe``, ``cache_judged``, ``confidence`` as shadow_sample reads them). The pick
    takes whole groups in the order it sorts them (probes, then the fewest judged serves), or a count from each
    confidence band, and cuts a group by a hash of the ticket id, as good as a random draw there: a row's chance is its
    group's share picked, 1 for groups taken whole and 0 for groups never reached (no estimate from the sample covers
    those)."""
    rest = [r for r in rows if not r.get("probe")]
    joined = merged(Counter(band(r) for r in rest), sum(bool(r["sampled"]) for r in rest))
    key = [(*order(r), 0 if r.get("probe") else joined[band(r)]) for r in rows]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for k, r in zip(key, rows):
        groups[k].append(r)
    share = {k: sum(bool(r["sampled"]) for r in group) / len(group) for k, group in groups.items()}
    return [share[k] for k in key]


def order(row: dict) -> tuple:
    """Where shadow_sample's sort puts a row before the hash decides: probes first, then (the cache's) the fewest judged
    serves. A small-model ticket may carry the record of a cache entry it did not take: that is no order of its own."""
    return (not row.get("probe"), (row.get("cache_judged") or 0) if row.get("route") == CACHE else 0)
