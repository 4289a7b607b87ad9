"""Per cheap route, the judged agreement of a day and of the rolling window, as `daily_cost_and_quality` columns."""

from __future__ import annotations

from nightshift.lib.stats import Share, wilson
from nightshift.quality.sampling import SHADOWED_ROUTES


def route_columns(today: dict[str, Share], rolling: dict[str, Share], supported: dict[str, Share]) -> dict:
    """sampled_<route>, agreement_<route> with _low and _high, and the same with 7d_ for the window; supported_7d_<route>
    with its interval for the window; None where unmeasured."""
    row: dict = {}
    for route in SHADOWED_ROUTES:
        share = supported.get(route) or wilson(0, 0)
        row[f"supported_7d_{route}"] = share.rate if share.n else None
        row[f"supported_7d_{route}_low"] = share.low if share.n else None
        row[f"supported_7d_{route}_high"] = share.high if share.n else None
    for route in SHADOWED_ROUTES:
        for infix, measured in (("", today), ("7d_", rolling)):
            share = measured.get(route) or wilson(0, 0)
            row[f"sampled_{infix}{route}"] = share.n
            row[f"agreement_{infix}{route}"] = share.rate
            row[f"agreement_{infix}{route}_low"] = share.low if share.n else None
            row[f"agreement_{infix}{route}_high"] = share.high if share.n else None
    return row
