"""Every stored ticket of the day has a current vector, and no vector outlives its ticket."""

from datetime import date

import dagster as dg

from nightshift.checks.results import conclude
from nightshift.orchestration.partitions import partition_day
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse


@dg.asset_check(asset="ticket_embeddings", blocking=True, description="DuckDB tickets and LanceDB vectors agree for the day.")
def embeddings_match_tickets(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore
) -> dg.AssetCheckResult:
    passed, metadata = compare(warehouse, vectors, partition_day(context))
    return conclude(context, warehouse, passed, metadata)


def compare(warehouse: DuckDBWarehouse, vectors: LanceDBStore, day: date) -> tuple[bool, dict]:
    tickets = {r["ticket_id"]: r["text_hash"] for r in warehouse.tickets.texts(day)}
    stored = vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "text_hash"])
    embedded = {r["ticket_id"]: r["text_hash"] for r in (stored.to_pylist() if stored is not None else [])}
    missing = tickets.keys() - embedded.keys()
    orphaned = embedded.keys() - tickets.keys()
    stale = {t for t in tickets.keys() & embedded.keys() if tickets[t] != embedded[t]}
    return not (missing or orphaned or stale), {
        "tickets": len(tickets), "vectors": len(embedded), "missing": len(missing),
        "orphaned": len(orphaned), "stale": len(stale),
        "examples": ", ".join(sorted(missing | orphaned | stale)[:5]) or "none",
    }
