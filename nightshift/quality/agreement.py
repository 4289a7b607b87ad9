"""Per cheap route, the judged agreement of a day and of the rolling window, as `daily_cost_and_quality` columns."""

from __future__ import annotations

from nightshift.lib.stats import Share, wilson
from nightshift.quality.estimate import Estimate, classical_estimate, estimate_rate
from nightshift.quality.sampling import SHADOWED_ROUTES, inclusion
from nightshift.quality.signals import score


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


def estimate_columns(answers: list[dict]) -> dict:
    """Per cheap route over the window of ``answers`` (QualitySQL.evidence): estimate_7d_<route> with _low and _high, the
    estimator that gave it and the judged answers it is worth; None where the route answered nothing."""
    row: dict = {}
    for route in SHADOWED_ROUTES:
        rows = [a for a in answers if a["route"] == route]
        chance = {(a["day"], a["ticket_id"]): p for day_rows in by_day(rows) for a, p in zip(day_rows, inclusion(day_rows))}
        judged = [a for a in rows if a["agrees"] is not None]
        labels = [int(a["agrees"]) for a in judged]
        found: Estimate | None
        if not rows:
            found = None
        elif min(chance.values()) == 0.0:
            # The sample never reached some answers (the cache's judges go to entries with the fewest judged serves):
            # nothing corrects the signals there, so only the judged answers' own share is reported.
            found = classical_estimate(labels, n_total=len(rows))
        else:
            found = estimate_rate([score(a) for a in rows], [score(a) for a in judged], labels,
                                  [chance[a["day"], a["ticket_id"]] for a in judged])
        row[f"estimate_7d_{route}"] = found.rate if found else None
        row[f"estimate_7d_{route}_low"] = found.low if found and found.n_judged else None
        row[f"estimate_7d_{route}_high"] = found.high if found and found.n_judged else None
        row[f"estimator_7d_{route}"] = found.estimator if found else None
        row[f"effective_n_7d_{route}"] = found.effective_n if found else None
    return row


def by_day(rows: list[dict]) -> list[list[dict]]:
    days: dict = {}
    for r in rows:
        days.setdefault(r["day"], []).append(r)
    return list(days.values())
