"""The cheap routes' judged agreement against the target, with the three answers the data supports.

Per route, over the rolling window, the Wilson 95% interval of its judged agreement either lies at or above the target
(meets it), lies under it (below: the check warns), or straddles it (undecided: small samples often cannot say yet;
35 of 35 agreeing is the least that clears 0.90). Undecided passes, with how many more agreeing judgements it would
take to decide, so the check fires only when a route is measured below target; the routing tightens on its own then
(see triage.tightening).
"""

from datetime import timedelta

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.lib.stats import wilson
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.quality.sampling import SHADOWED_ROUTES
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.warehouse import DuckDBWarehouse

MEETS, BELOW, UNDECIDED, UNMEASURED = "meets", "below", "undecided", "not measured"
MAX_NEEDED = 10_000


def verdict(low: float, high: float, target: float) -> str:
    return MEETS if low >= target else BELOW if high < target else UNDECIDED


def still_needed(hits: int, n: int, target: float) -> int | None:
    """How many more judged answers, all agreeing, would lift the lower bound to the target; None: more than MAX_NEEDED
    (the agreement so far is too low for agreeing answers alone to get there soon)."""
    return next((k for k in range(MAX_NEEDED + 1) if wilson(hits + k, n + k).low >= target), None)


@dg.asset_check(asset="daily_cost_and_quality", partitions_def=daily_partitions,
                description="Over the rolling window, each measured cheap route's agreement with the frontier model (Wilson 95%) "
                "is not below the target: warns when the whole interval is under it; an interval that straddles it is "
                "undecided, and passes with the judged answers still needed.")
@traced
def cheap_answers_meet_quality_target(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, quality: QualityPolicy
) -> dg.AssetCheckResult:
    day = partition_day(context)
    rows = warehouse.reports.days(day - timedelta(days=1), day)
    row = rows[0] if rows else {}
    metadata: dict = {"target": quality.target, "window_days": quality.window_days}
    found = {}
    for route in SHADOWED_ROUTES:
        n, low, high = row.get(f"sampled_7d_{route}") or 0, row.get(f"agreement_7d_{route}_low"), row.get(f"agreement_7d_{route}_high")
        metadata[f"sampled_{route}"] = n
        if not n or low is None or high is None:
            found[route] = UNMEASURED
            continue
        rate = row[f"agreement_7d_{route}"]
        found[route] = verdict(low, high, quality.target)
        metadata.update({f"agreement_{route}": round(rate, 4), f"lower_bound_{route}": round(low, 4),
                         f"upper_bound_{route}": round(high, 4)})
        if found[route] == UNDECIDED:
            needed = still_needed(round(rate * n), n, quality.target)
            metadata[f"still_needed_{route}"] = needed if needed is not None else f"more than {MAX_NEEDED}"
    for route, said in found.items():
        metadata[f"verdict_{route}"] = said
    below = [route for route, said in found.items() if said == BELOW]
    undecided = [route for route, said in found.items() if said == UNDECIDED]
    metadata["below_target"] = ", ".join(f"{r} {metadata[f'upper_bound_{r}']:.2f} at most" for r in below) or "none"
    metadata["summary"] = ("below target: " + ", ".join(below) if below else
                           "undecided: " + ", ".join(f"{r} needs {metadata[f'still_needed_{r}']} more agreeing" for r in undecided)
                           if undecided else "every measured route meets the target")
    return conclude(context, warehouse, not below, metadata, dg.AssetCheckSeverity.WARN, said=metadata["summary"])
