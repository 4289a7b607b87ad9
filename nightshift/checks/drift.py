"""The day's category mix against the trailing week's: a warning, since a real shift in what customers ask is news, not an error."""

from datetime import timedelta

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.quality.mix import largest_moves, total_variation
from nightshift.reporting.themes import TRAILING_DAYS
from nightshift.resources.warehouse import DuckDBWarehouse

# Chance alone, simulated for 150 tickets from one mix over 27 categories: 0.23 against one trailing day (0.31 at the
# 99th percentile), 0.17 against a full week. Above 0.35 the mix really moved.
MAX_DISTANCE = 0.35


@dg.asset_check(asset="ticket_triage", description=f"Category mix against the trailing {TRAILING_DAYS} days (total variation distance).")
@traced
def category_mix_drift(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    day = partition_day(context)
    today = warehouse.triage.category_counts(day, day + timedelta(days=1))
    trailing = warehouse.triage.category_counts(day - timedelta(days=TRAILING_DAYS), day)
    distance = total_variation(today, trailing) if today and trailing else 0.0
    return conclude(context, warehouse, distance <= MAX_DISTANCE, {
        "tickets": sum(today.values()), "trailing_tickets": sum(trailing.values()),
        "distance": round(distance, 4), "max_distance": MAX_DISTANCE,
        "largest_moves": ", ".join(f"{k} {v:+.1%}" for k, v in largest_moves(today, trailing)) if trailing else "no trailing days",
    }, dg.AssetCheckSeverity.WARN)
