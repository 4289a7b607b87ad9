"""Every stored ticket of the day has a current vector, and no vector outlives its ticket."""

from datetime import date

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.orchestration.partitions import partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse


@dg.asset_check(asset="ticket_embeddings", blocking=True, description="DuckDB tickets and LanceDB vectors agree for the day.")
@traced
def embeddings_match_tickets(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore
) -> dg.AssetCheckResult:
    passed, metadata = compare(warehouse, vectors, partition_day(context))
    return conclude(context, warehouse, passed, metadata)


def compare(warehouse: DuckDBWarehouse, vectors: LanceDBStore, day: date) -> tuple[bool, dict]:
    tickets = warehouse.tickets.hashes(day)
    stored = vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "text_hash"])
    embedded = dict(zip(stored["ticket_id"].to_pylist(), stored["text_hash"].to_pylist())) if stored is not None else {}
    # The day is written in blocks: a ticket written twice would hide in the dict, so the rows are counted too.
    duplicated = (stored.num_rows if stored is not None else 0) - len(embedded)
    missing = tickets.keys() - embedded.keys()
    orphaned = embedded.keys() - tickets.keys()
    stale = {t for t in tickets.keys() & embedded.keys() if tickets[t] != embedded[t]}
    return not (missing or orphaned or stale or duplicated), {
        "tickets": len(tickets), "vectors": len(embedded), "missing": len(missing),
        "orphaned": len(orphaned), "stale": len(stale), "duplicated": duplicated,
        "examples": ", ".join(sorted(missing | orphaned | stale)[:5]) or "none",
    }
