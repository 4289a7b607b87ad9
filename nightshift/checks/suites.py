"""The Great Expectations suites of nightshift.quality.expectations, run as asset checks on a day's rows."""

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.quality import expectations
from nightshift.resources.models import TriageModelStore
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.schema import TABLES


def run_suite(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, table: str, build,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, check: str | None = None,
) -> dg.AssetCheckResult:
    """Validate the day's rows of `table` against the suite `build(column names)` returns."""
    frame = warehouse.db.day_frame(table, partition_day(context))
    outcome = expectations.validate(table, build(TABLES[table].names), frame)
    return conclude(context, warehouse, outcome.success, {
        "rows": len(frame), "expectations": outcome.evaluated, "success_share": outcome.success_share,
        "failed_expectations": len(outcome.failures), "failures": dg.MetadataValue.md(outcome.markdown()),
    }, severity, check)


@dg.asset_check(asset="raw_tickets", blocking=True, description="Great Expectations: the day's stored tickets (schema, unique ids, text lengths).")
@traced
def tickets_expectations(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    return run_suite(context, warehouse, "tickets", expectations.tickets_suite)


# Evaluated by the gates (checks/gates.py), with the other blocking checks on the same asset.
TRIAGE_SUITE = dg.AssetCheckSpec("triage_expectations", asset="ticket_triage", blocking=True,
                                 description="Great Expectations: the day's triage (routes and categories in their sets, confidence in [0, 1]).")
RESPONSES_SUITE = dg.AssetCheckSpec(
    "responses_expectations", asset="ticket_responses", blocking=True,
    description="Great Expectations: the day's responses (statuses, sources, answer lengths, $ and tokens not negative).")


def triage_expectations(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, models: TriageModelStore) -> dg.AssetCheckResult:
    model = models.store().for_day(context.partition_key)
    categories = model.category.classes if model else []
    return run_suite(context, warehouse, "ticket_triage", lambda names: expectations.triage_suite(names, categories),
                     check=TRIAGE_SUITE.name)


def responses_expectations(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    return run_suite(context, warehouse, "ticket_responses", expectations.responses_suite, check=RESPONSES_SUITE.name)


@dg.asset_check(asset="daily_digest", description="Great Expectations: the day's digest (one row, status, headline length).")
@traced
def digest_expectations(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    return run_suite(context, warehouse, "daily_digests", expectations.digests_suite)
