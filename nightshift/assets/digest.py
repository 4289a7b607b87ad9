"""daily_digest: the day's themes and spikes, written up by the frontier model through the batch path."""

import json
from dataclasses import asdict

import dagster as dg

from nightshift import digest
from nightshift.assets.responses import ticket_responses
from nightshift.assets.synthesis import day_themes, spend_metadata, triaged_tickets
from nightshift.batch_ledger import BatchLedger
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.prompts import DAILY_DIGEST
from nightshift.resources.models import Prices
from nightshift.resources.vector_store import LanceDBStore
from nightshift.resources.warehouse import DIGESTS, DuckDBWarehouse


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_responses],
    group_name="synthesis",
    kinds={"duckdb"},
    pool="duckdb_writer",
)
def daily_digest(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, prices: Prices
) -> dg.MaterializeResult:
    """The day's digest in DuckDB `daily_digests`: clusters of tickets, rising categories, and the model's write-up."""
    day = partition_day(context)
    table = prices.table()
    found, rising, n = day_themes(warehouse, vectors, day, triaged_tickets(warehouse, day))
    ledger = BatchLedger(warehouse, None, table)
    request = ledger.latest(day).get(f"digest:{day}")
    spent = ledger.spent(day).get(f"digest:{day}") or {}
    status = "failed" if request is None else {"ok": "ok", "submitted": "pending"}.get(request["status"], "failed")
    written = json.loads(request["answer"]) if request and request["answer"] else None
    headline = written["headline"] if written else None
    text = digest.markdown(day.isoformat(), headline, found, rising, written)
    row = {
        "day": day, "status": status if n else "ok", "tickets": n, "headline": headline,
        "themes": json.dumps([asdict(t) for t in found]), "spikes": json.dumps([asdict(s) for s in rising]),
        "digest": request["answer"] if request else None, "markdown": text,
        "model": request["model"] if request else table.frontier, "prompt_version": DAILY_DIGEST,
        "usd": float(spent.get("usd") or 0.0),
    }
    warehouse.replace_day(day, {"daily_digests": ([row], DIGESTS)})
    if n and status != "ok":
        context.log.warning(f"digest of {day} is {status}" + (f": {request['error']}" if request and request["error"] else ""))
    return dg.MaterializeResult(metadata={
        "status": row["status"], "tickets": n, "themes": len(found), "spikes": len(rising),
        **spend_metadata([{k: float(spent.get(k) or 0) for k in ("usd", "frontier_sync_usd", "input_tokens", "output_tokens")}]),
        "batch_turnaround_s": (request["finished_at"] - request["submitted_at"]).total_seconds()
        if request and request["finished_at"] else 0.0,
        "digest": dg.MetadataValue.md(text),
    })
