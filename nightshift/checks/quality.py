"""The cheap routes' judged agreement against the target: a warning while the interval's lower bound is under it.

A lower bound under target says the sample cannot vouch for the route yet, which small samples often cannot (35 of 35
agreeing is the least that clears 0.90), so this warns rather than blocks; the routing tightens on its own once a
route is measured clearly under target (see triage.tightening).
"""

from datetime import timedelta

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.quality.sampling import SHADOWED_ROUTES
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.warehouse import DuckDBWarehouse


@dg.asset_check(asset="daily_cost_and_quality", description="Over the rolling window, the lower bound of each measured cheap route's "
                "agreement with the frontier model (Wilson 95%) is at least the target.")
@traced
def cheap_answers_meet_quality_target(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, quality: QualityPolicy
) -> dg.AssetCheckResult:
    day = partition_day(context)
    rows = warehouse.reports.days(day - timedelta(days=1), day)
    row = rows[0] if rows else {}
    metadata: dict = {"target": quality.target, "window_days": quality.window_days}
    below = []
    for route in SHADOWED_ROUTES:
        n, low = row.get(f"sampled_7d_{route}") or 0, row.get(f"agreement_7d_{route}_low")
        metadata[f"sampled_{route}"] = n
        if n and low is not None:
            metadata[f"lower_bound_{route}"] = round(low, 4)
            metadata[f"agreement_{route}"] = round(row[f"agreement_7d_{route}"], 4)
            if low < quality.target:
                below.append(f"{route} {low:.2f} from {n} judged")
    metadata["below_target"] = ", ".join(below) or "none"
    return conclude(context, warehouse, not below, metadata, dg.AssetCheckSeverity.WARN)
