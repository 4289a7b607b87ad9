"""raw_tickets: a day of landing-zone files into DuckDB, bad rows into quarantine."""

from collections import Counter

import dagster as dg

from nightshift.checks.results import record
from nightshift.ingest.rules import quarantine_ids_stored_elsewhere, reason_kind
from nightshift.lib.markdown import markdown_table
from nightshift.observability import tracing
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.landing import LandingZone
from nightshift.resources.warehouse import DuckDBWarehouse

RECONCILE = "rows_reconcile"


@dg.asset(
    partitions_def=daily_partitions,
    group_name="nightly",
    kinds={"duckdb"},
    pool="duckdb_writer",
    check_specs=[dg.AssetCheckSpec(RECONCILE, asset="raw_tickets", description="rows in = stored + quarantined, read back from DuckDB")],
)
@traced
def raw_tickets(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: DuckDBWarehouse) -> dg.MaterializeResult:
    """The day's support tickets from the landing zone into DuckDB `tickets`.

    Rows that cannot be tickets go to `tickets_quarantine` with file, line and reason; PII is redacted.
    """
    day = partition_day(context)
    folder = landing.day_folder(day)
    if not folder.is_dir():
        # A missing folder leaves the day as it was: landing files are often archived after ingest.
        context.log.warning(f"No landing folder {folder}; the stored day is left untouched.")
        return dg.MaterializeResult(
            metadata=typed({"rows_in": 0, "note": f"no landing folder for {day}"}),
            check_results=[dg.AssetCheckResult(check_name=RECONCILE, passed=True, metadata=typed({"rows_in": 0}),
                                               description=f"passed for {day}: no landing folder, nothing to reconcile")],
        )
    batch = landing.read(day)
    quarantine_ids_stored_elsewhere(batch, warehouse.tickets.stored_elsewhere([t["ticket_id"] for t in batch.tickets], day))
    warehouse.tickets.replace_day(day, batch.tickets, batch.quarantine)
    tracing.tickets("ingest", batch.tickets, ("source_file", "source_line", "redactions"))
    stored, quarantined = warehouse.tickets.counts(day)
    reasons = Counter(reason_kind(q["reason"]) for q in batch.quarantine)
    context.log.info(f"{day}: {batch.rows_in} rows in, {stored} stored, {quarantined} quarantined")
    return dg.MaterializeResult(
        metadata=typed({
            "rows_in": batch.rows_in,
            "rows_stored": stored,
            "rows_quarantined": quarantined,
            "dagster/row_count": stored,
            "redactions": sum(batch.redactions.values()),
            **{f"redactions_{kind.lower()}": n for kind, n in sorted(batch.redactions.items())},
            "files": len({t["source_file"] for t in batch.tickets} | {q["source_file"] for q in batch.quarantine}),
            "quarantine_reasons": dg.MetadataValue.md(markdown_table(("reason", "rows"), reasons.most_common(), "nothing quarantined")),
            "read_as": dg.MetadataValue.md(markdown_table(("file", "read as"), sorted(batch.read_as.items()), "no files")),
        }),
        check_results=[reconciled(warehouse, day, batch.rows_in, stored, quarantined)],
    )


def reconciled(warehouse: DuckDBWarehouse, day, rows_in: int, stored: int, quarantined: int) -> dg.AssetCheckResult:
    """The structural check that rides on the materialization, recorded in check_results like the others."""
    return record(warehouse, day, "raw_tickets", RECONCILE, rows_in == stored + quarantined,
                  {"rows_in": rows_in, "stored": stored, "quarantined": quarantined})
