"""daily_cost_and_quality: what a day cost against the naive baseline, and how good it was."""

from datetime import timedelta

import dagster as dg

from nightshift.assets.cache import cached_answers
from nightshift.assets.digest import daily_digest
from nightshift.assets.quality import answer_quality
from nightshift.assets.responses import ticket_responses
from nightshift.lib.markdown import markdown_table
from nightshift.llm.ledger import BatchLedger
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.timings import stage_seconds
from nightshift.orchestration.tracing import traced
from nightshift.quality.agreement import estimate_columns, route_columns
from nightshift.reporting import cost_table, trend_chart
from nightshift.resources.models import Prices, TriageModelStore
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.warehouse import DuckDBWarehouse

TREND_DAYS = 14
# What the Plots view draws, day after day: $ against the baseline and the saving, the route mix, and each cheap
# route's 7-day agreement with its interval. Every other figure of the row is in the `figures` table and in DuckDB.
PLOTTED = ("spent_usd", "baseline_usd", "saving", "tickets", "route_cache", "route_small_model", "route_frontier",
           "route_realtime", *(f"agreement_7d_{route}{end}" for route in ("small_model", "cache") for end in ("", "_low", "_high")),
           "check_pass_rate")


def cell(value: float) -> str:
    return f"{value:.6g}"


@dg.asset(
    partitions_def=daily_partitions,
    # After cached_answers, so the blocking checks on ticket_responses are in the day's check pass rate.
    deps=[ticket_responses, cached_answers, daily_digest, answer_quality],
    group_name="nightly",
    kinds={"duckdb"},
    pool="duckdb_writer",
)
@traced
def daily_cost_and_quality(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, models: TriageModelStore, prices: Prices, quality: QualityPolicy,
) -> dg.MaterializeResult:
    """One row per day in DuckDB `daily_cost_and_quality`: $ against the synchronous frontier baseline and the saving
    by lever, tokens, routes, cache hits and measured false hits, triage confidence, valid answers, failures, batch
    turnaround, check pass rate, per cheap route the judged agreement with its 95% interval, today and rolling, and
    groundedness: per route the share of answers citing a current passage, per cheap route the judged share whose claims
    the cited passages back, with its interval; and the seconds each stage took (ingest_s ... collect_s, with the batch
    wait in batch_turnaround_s), so time, $ and quality sit in one row.

    The saving is the whole day's, quality measurement included (ticket_responses' `replies_saving` is the replies'
    alone). `checks` counts the day's check results; a check that runs after the row is written (those on this asset
    itself) updates it.
    """
    day = partition_day(context)
    row = {"day": day, **warehouse.reports.quality(day)}
    row.update(BatchLedger(warehouse.db, None, prices.table()).day_totals(day))
    row.update(stage_seconds(context.instance, day.isoformat()))
    row["cache_hit_rate"] = row["route_cache"] / row["tickets"] if row["tickets"] else 0.0
    model = models.store().for_day(day.isoformat())
    row["cache_false_hit_rate"] = float(model.metrics.get("cache_false_hit_rate", 0.0)) if model else None
    window = day - timedelta(days=quality.window_days)
    row.update(route_columns(warehouse.quality.agreement(day - timedelta(days=1), day), warehouse.quality.agreement(window, day),
                             warehouse.quality.supported(window, day)))
    row.update(estimate_columns(warehouse.quality.evidence(window, day)))
    row.update(warehouse.answers.admissions(day))
    wrong = warehouse.quality.wrong_serves(window, day)
    row.update(cache_wrong_serve_rate=wrong.rate, cache_wrong_serve_rate_low=wrong.low if wrong.n else None,
               cache_wrong_serve_rate_high=wrong.high if wrong.n else None)
    warehouse.reports.replace_day(day, row)
    trend = warehouse.reports.days(day - timedelta(days=TREND_DAYS), day)
    numeric = {k: v for k, v in row.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return dg.MaterializeResult(metadata=typed({
        # Numbers are plotted over the partitions: only the headline ones, so the Plots view shows what matters.
        **{k: numeric[k] for k in PLOTTED if k in numeric},
        "figures": dg.MetadataValue.md(markdown_table(("figure", "value"), [(k, cell(v)) for k, v in sorted(numeric.items())])),
        "dagster/row_count": 1,
        # The chart first: the tables beside it are narrow enough for the UI's metadata column.
        "trend_chart": dg.MetadataValue.md(trend_chart.markdown_image(trend_chart.png(trend, quality.target))),
        "trend": dg.MetadataValue.md("\n\n".join(
            f"{title}:\n\n" + cost_table.markdown(trend, columns) for title, columns in (
                (f"Last {TREND_DAYS} days up to {day}, cost and routes", cost_table.COST_COLUMNS),
                *cost_table.NARROW_TABLES[1:3],
                ("Seconds per stage", cost_table.TIME_COLUMNS),
                cost_table.NARROW_TABLES[3],
                ("Cheap routes: agreement with the frontier model (95% interval, judged)", cost_table.AGREEMENT_COLUMNS),
                ("The answer cache: admitted, refused by reason, and its serves judged", cost_table.TRUST_COLUMNS)))),
    }))
