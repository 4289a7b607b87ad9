"""The Great Expectations suites of nightshift.expectations, run as asset checks on a day's rows."""

from datetime import date

import dagster as dg
import pyarrow as pa

from nightshift import expectations
from nightshift.assets.digest import daily_digest
from nightshift.assets.ingest import raw_tickets
from nightshift.assets.responses import ticket_responses
from nightshift.assets.triage import ticket_triage
from nightshift.checks.results import conclude
from nightshift.resources.models import TriageModelStore
from nightshift.resources.warehouse import DIGESTS, RESPONSES, TICKETS, TRIAGE, DuckDBWarehouse


def run_suite(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, table: str, schema: pa.Schema, stamp: str, build,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """Validate the day's rows of `table` against the suite `build(column names)` returns; `stamp` is its write-time column."""
    frame = warehouse.query(f"SELECT * FROM {table} WHERE day = ?", [date.fromisoformat(context.partition_key)]).to_pandas()
    outcome = expectations.validate(table, build([*schema.names, stamp]), frame)
    return conclude(context, warehouse, outcome.success, {
        "rows": len(frame), "expectations": outcome.evaluated, "success_share": outcome.success_share,
        "failed_expectations": len(outcome.failures), "failures": dg.MetadataValue.md(outcome.markdown()),
    }, severity)


@dg.asset_check(asset=raw_tickets, blocking=True, description="Great Expectations: the day's stored tickets (schema, unique ids, text lengths).")
def tickets_expectations(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    return run_suite(context, warehouse, "tickets", TICKETS, "ingested_at", expectations.tickets_suite)


@dg.asset_check(asset=ticket_triage, blocking=True,
                description="Great Expectations: the day's triage (routes and categories in their sets, confidence in [0, 1]).")
def triage_expectations(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, models: TriageModelStore
) -> dg.AssetCheckResult:
    model = models.store().for_day(context.partition_key)
    categories = model.category.classes if model else []
    return run_suite(context, warehouse, "ticket_triage", TRIAGE, "triaged_at",
                     lambda names: expectations.triage_suite(names, categories))


@dg.asset_check(asset=ticket_responses, blocking=True,
                description="Great Expectations: the day's responses (statuses, sources, answer lengths, $ and tokens not negative).")
def responses_expectations(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    return run_suite(context, warehouse, "ticket_responses", RESPONSES, "responded_at", expectations.responses_suite)


@dg.asset_check(asset=daily_digest, description="Great Expectations: the day's digest (one row, status, headline length).")
def digest_expectations(context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse) -> dg.AssetCheckResult:
    return run_suite(context, warehouse, "daily_digests", DIGESTS, "created_at", expectations.digests_suite)
