"""synthesis_batches: the day's requests go out, one batch per model; realtime tickets are answered now."""

from collections import Counter
from datetime import date, timedelta

import dagster as dg
import numpy as np

from nightshift import digest
from nightshift.assets.embeddings import TABLE as EMBEDDINGS
from nightshift.assets.triage import ticket_triage, vectors_by_id
from nightshift.batch_ledger import BatchLedger
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.resources.llm import PROVIDER_RETRY, LLMProvider, permanent_errors_fail_fast
from nightshift.resources.models import Prices
from nightshift.resources.vector_store import LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.synthesis import digest_request, reply_requests

TRAILING_DAYS = 7


def spend_metadata(outcomes: list[dict]) -> dict:
    """$ spent, the synchronous-frontier $ for the same tokens, the saving and the tokens, for a set of request outcomes."""
    usd, sync = sum(o["usd"] for o in outcomes), sum(o["frontier_sync_usd"] for o in outcomes)
    return {"usd": round(usd, 6), "frontier_sync_usd": round(sync, 6), "saving": round(1 - usd / sync, 4) if sync else 0.0,
            "tokens": int(sum(o["input_tokens"] + o["output_tokens"] for o in outcomes))}


def triaged_tickets(warehouse: DuckDBWarehouse, day: date) -> list[dict]:
    """The day's tickets with their route, category, nearest cache entry and the redacted text a model may see."""
    return warehouse.query(
        "SELECT t.ticket_id, t.route, t.category, t.cache_entry_id, k.text_redacted FROM ticket_triage t "
        "JOIN tickets k USING (ticket_id, day) WHERE t.day = ? ORDER BY t.ticket_id", [day]
    ).to_pylist()


def category_counts(warehouse: DuckDBWarehouse, first: date, end: date) -> Counter:
    """Triaged tickets per category over the days from `first` up to, not including, `end`."""
    rows = warehouse.query("SELECT category, count(*) AS n FROM ticket_triage WHERE day >= ? AND day < ? GROUP BY 1",
                           [first, end]).to_pylist()
    return Counter({r["category"]: r["n"] for r in rows})


def day_themes(
    warehouse: DuckDBWarehouse, vectors: LanceDBStore, day: date, triaged: list[dict]
) -> tuple[list[digest.Theme], list[digest.Spike], int]:
    """The day's clusters and the categories that rose against the trailing week: the digest's material."""
    by_id = vectors_by_id(vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "vector"]))
    rows = [r for r in triaged if r["ticket_id"] in by_id]
    if not rows:
        return [], [], 0
    found = digest.themes(np.stack([by_id[r["ticket_id"]] for r in rows]), [r["ticket_id"] for r in rows],
                          [r["text_redacted"] for r in rows], [r["category"] for r in rows])
    rising = digest.spikes(Counter(r["category"] for r in rows), category_counts(warehouse, day - timedelta(days=TRAILING_DAYS), day))
    return found, rising, len(rows)


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_triage],
    group_name="synthesis",
    kinds={"openai", "duckdb"},
    pool="llm_provider",
    retry_policy=PROVIDER_RETRY,
)
def synthesis_batches(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, llm: LLMProvider, prices: Prices
) -> dg.MaterializeResult:
    """Submits the day's reply requests (one batch per model, with the digest) and records them in DuckDB `llm_batches`.

    Realtime tickets are answered synchronously, at full price. Nothing is sent twice: answered requests are reused.
    """
    with permanent_errors_fail_fast():
        day = partition_day(context)
        table = prices.table()
        ledger = BatchLedger(warehouse, llm.client(), table)
        in_flight = ledger.open_batches(day)
        if in_flight:
            # A second submission would pay twice for the same answers; the sensor will collect these.
            context.log.warning(f"{len(in_flight)} batches of {day} are still open; nothing submitted")
            return dg.MaterializeResult(metadata={"submitted_batches": 0, "open_batches": len(in_flight),
                                                  "batch_ids": ", ".join(b["batch_id"] for b in in_flight)})
        triaged = triaged_tickets(warehouse, day)
        requests = reply_requests(triaged, table)
        found, rising, n = day_themes(warehouse, vectors, day, triaged)
        if n:
            requests.append(digest_request(day.isoformat(), *digest.describe(found, rising), table))
        todo = ledger.plan(day, requests)
        answered = ledger.answer_now(day, todo)
        states = ledger.submit(day, todo)
        per_model = Counter(request.model for request, _ in todo if request.mode == "batch")
        metadata = {
            "requests": len(requests),
            "reused": len(requests) - len(todo),
            "submitted_requests": sum(per_model.values()),
            "submitted_batches": len(states),
            **{f"requests_{model}": count for model, count in sorted(per_model.items())},
            "realtime_answered": sum(o["status"] == "ok" for o in answered),
            "realtime_failed": sum(o["status"] != "ok" for o in answered),
            # What this materialization spent (the realtime answers); batch $ are counted when collected.
            **spend_metadata(answered),
            "provider": llm.provider,
            "batch_ids": ", ".join(s.id for s in states) or "none",
        }
        context.log.info(f"{day}: {metadata['submitted_requests']} requests in {len(states)} batches, {len(answered)} answered now")
        return dg.MaterializeResult(metadata=metadata)
