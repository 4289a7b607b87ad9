"""daily_digest: the day's themes and spikes, written up by the frontier model through the batch path."""

import json
from typing import Any

import dagster as dg

from nightshift.assets.responses import ticket_responses
from nightshift.llm.ledger import BatchLedger
from nightshift.llm.pricing import spend_summary
from nightshift.llm.prompts import DAILY_DIGEST
from nightshift.llm.requests import DIGEST, wrote
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.reporting import themes
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_responses],
    group_name="nightly",
    kinds={"duckdb"},
    pool="duckdb_writer",
)
@traced
def daily_digest(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, prices: Prices) -> dg.MaterializeResult:
    """The day's digest in DuckDB `daily_digests`: clusters of tickets, rising categories, and the model's write-up."""
    day = partition_day(context)
    table = prices.table()
    material = warehouse.answers.material(day)
    found, rising, n = themes.from_row(material)
    ledger = BatchLedger(warehouse.db, None, table)
    request = ledger.latest(day, kinds=(DIGEST,)).get(f"digest:{day}")
    spent = ledger.spent(day, kinds=(DIGEST,)).get(f"digest:{day}") or {}
    status = "failed" if request is None else {"ok": "ok", "submitted": "pending"}.get(request["status"], "failed")
    written = json.loads(request["answer"]) if request and request["answer"] else None
    headline = written["headline"] if written else None
    text = themes.markdown(day.isoformat(), headline, found, rising, written)
    row: dict[str, Any] = {
        "day": day, "status": status if n else "ok", "tickets": n, "headline": headline,
        "themes": material["themes"] if material else "[]", "spikes": material["spikes"] if material else "[]",
        "digest": request["answer"] if request else None, "markdown": text,
        "model": wrote(request) if request else table.frontier, "prompt_version": DAILY_DIGEST,
        "usd": float(spent.get("usd") or 0.0),
    }
    warehouse.answers.replace_digest(day, row)
    if n and status != "ok":
        context.log.warning(f"digest of {day} is {status}" + (f": {request['error']}" if request and request["error"] else ""))
    return dg.MaterializeResult(metadata=typed({
        "status": row["status"], "tickets": n, "themes": len(found), "spikes": len(rising),
        **spend_summary([{k: float(spent.get(k) or 0) for k in ("usd", "frontier_sync_usd", "input_tokens", "output_tokens")}]),
        "batch_turnaround_s": (request["finished_at"] - request["submitted_at"]).total_seconds()
        if request and request["finished_at"] else 0.0,
        "digest": dg.MetadataValue.md(text),
    }))
