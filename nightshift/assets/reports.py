"""daily_cost_and_quality: what a day cost against the naive baseline, and how good it was."""

from datetime import timedelta

import dagster as dg

from nightshift import report
from nightshift.assets.cache import cached_answers
from nightshift.assets.digest import daily_digest
from nightshift.assets.responses import ticket_responses
from nightshift.batch_ledger import BatchLedger
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.resources.models import Prices, TriageModelStore
from nightshift.resources.warehouse import COST_AND_QUALITY, DuckDBWarehouse

TREND_DAYS = 14

QUALITY = """
SELECT
    (SELECT count(*) FROM ticket_triage WHERE day = $1) AS tickets,
    (SELECT count(*) FILTER (WHERE route = 'cache') FROM ticket_triage WHERE day = $1) AS route_cache,
    (SELECT count(*) FILTER (WHERE route = 'small_model') FROM ticket_triage WHERE day = $1) AS route_small_model,
    (SELECT count(*) FILTER (WHERE route = 'frontier') FROM ticket_triage WHERE day = $1) AS route_frontier,
    (SELECT count(*) FILTER (WHERE route = 'realtime') FROM ticket_triage WHERE day = $1) AS route_realtime,
    (SELECT avg(confidence) FROM ticket_triage WHERE day = $1) AS mean_confidence,
    (SELECT count(*) FILTER (WHERE status = 'ok') FROM ticket_responses WHERE day = $1) AS answered,
    (SELECT count(*) FILTER (WHERE status = 'failed') FROM ticket_responses WHERE day = $1) AS failed,
    (SELECT count(*) FILTER (WHERE status = 'pending') FROM ticket_responses WHERE day = $1) AS pending,
    (SELECT avg(needs_human::INTEGER) FROM ticket_responses WHERE day = $1 AND status = 'ok') AS needs_human_share,
    (SELECT count(*) FILTER (WHERE status = 'ok') / nullif(count(*), 0) FROM llm_requests
        WHERE day = $1 AND status IN ('ok', 'invalid')) AS valid_json_rate,
    (SELECT count(*) FROM llm_batches WHERE day = $1) AS batches,
    (SELECT coalesce(max(attempt), 0) FROM llm_requests WHERE day = $1 AND superseded_at IS NULL) AS max_attempt,
    (SELECT max(epoch(finished_at) - epoch(submitted_at)) FROM llm_batches WHERE day = $1) AS batch_turnaround_s,
    (SELECT count(*) FROM check_results WHERE day = $1) AS checks,
    (SELECT count(*) FILTER (WHERE passed) FROM check_results WHERE day = $1) AS checks_passed,
    (SELECT avg(passed::INTEGER) FROM check_results WHERE day = $1) AS check_pass_rate
"""


@dg.asset(
    partitions_def=daily_partitions,
    # After cached_answers, so the blocking checks on ticket_responses are in the day's check pass rate.
    deps=[ticket_responses, cached_answers, daily_digest],
    group_name="reports",
    kinds={"duckdb"},
    pool="duckdb_writer",
)
def daily_cost_and_quality(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, models: TriageModelStore, prices: Prices
) -> dg.MaterializeResult:
    """One row per day in DuckDB `daily_cost_and_quality`: $ against the synchronous frontier baseline, tokens,
    routes, cache hits and measured false hits, triage confidence, valid answers, failures, batch turnaround, check pass rate."""
    day = partition_day(context)
    row = {"day": day, **warehouse.query(QUALITY, [day]).to_pylist()[0]}
    row.update(BatchLedger(warehouse, None, prices.table()).day_totals(day))
    row["cache_hit_rate"] = row["route_cache"] / row["tickets"] if row["tickets"] else 0.0
    model = models.store().for_day(day.isoformat())
    row["cache_false_hit_rate"] = float(model.metrics.get("cache_false_hit_rate", 0.0)) if model else None
    warehouse.replace_day(day, {"daily_cost_and_quality": ([row], COST_AND_QUALITY)})
    trend = warehouse.query(
        "SELECT * FROM daily_cost_and_quality WHERE day > ? AND day <= ? ORDER BY day", [day - timedelta(days=TREND_DAYS), day]
    ).to_pylist()
    numeric = {k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return dg.MaterializeResult(metadata={
        **numeric,
        "trend": dg.MetadataValue.md(f"Last {TREND_DAYS} days up to {day}:\n\n" + report.markdown(trend)),
    })
