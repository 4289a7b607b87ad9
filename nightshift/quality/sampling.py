"""Which cheap answers are also asked of the frontier model tonight: the shadow sample.

Per cheap route (cache, small model) a share of the day's tickets, never fewer than a minimum (or all there are) and
never more than a maximum: the interval narrows with the count judged, not with the share, so past a few dozen a week
more samples buy little and cost the frontier price each.
The pick ranks tickets by a hash of their id, so a rerun of the day samples the same tickets and sends nothing new.
Probes are shadowed beyond that, whatever their number: the serves of cache entries on probation and the tickets sent to a route gated
for their category, every one judged before it is given. The cache route's sample of the rest takes the entries with the fewest
judged serves on record: the judge's budget buys the most where least is known.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict

from nightshift.triage.routing import CACHE, SMALL

SHADOWED_ROUTES = (CACHE, SMALL)


def rank(ticket_id: str) -> str:
    return hashlib.sha256(ticket_id.encode()).hexdigest()


def shadow_sample(triaged: list[dict], share: float, minimum: int, maximum: int | None = None) -> list[dict]:
    """The triaged rows (ticket_id, route, ...) to shadow: every probe (rows with ``probe`` true), and per cheap route
    ceil(share x n) of the n others, at least ``minimum``, at most ``maximum``."""
    by_route: dict[str, list[dict]] = defaultdict(list)
    for row in triaged:
        if row["route"] in SHADOWED_ROUTES:
            by_route[row["route"]].append(row)
    picked = []
    for route in SHADOWED_ROUTES:
        rows = sorted(by_route[route], key=lambda r: (*order(r), rank(r["ticket_id"])))
        probes = sum(bool(r.get("probe")) for r in rows)
        # The budget is for the rest: the probes measure what is on trial, the rest the route as it stands.
        wanted = max(math.ceil(share * (len(rows) - probes)), minimum)
        picked += rows[:probes + (min(wanted, maximum) if maximum is not None else wanted)]
    return picked


def inclusion(rows: list[dict]) -> list[float]:
    """Each row's chance of having been shadowed under shadow_sample's design, from what was: rows of one route and day
    (``sampled``: it was; ``probe``, ``cache_judged`` as shadow_sample reads them). The pick takes whole groups in
    the order it sorts them (probes, then the fewest judged serves) and cuts the last group by a hash of the ticket id,
    as good as a random draw there: a row's chance is its group's share picked, 1 for groups taken whole and 0 for
    groups never reached (no estimate from the sample covers those)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[order(r)].append(r)
    share = {key: sum(bool(r["sampled"]) for r in group) / len(group) for key, group in groups.items()}
    return [share[order(r)] for r in rows]


def order(row: dict) -> tuple:
    """Where shadow_sample's sort puts a row before the hash decides: probes first, then the fewest judged serves."""
    return (not row.get("probe"), row.get("cache_judged") or 0)
