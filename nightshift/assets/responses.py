"""ticket_responses: the day's finished batches collected, failures retried, one response per ticket."""

import json
from collections import Counter

import dagster as dg
import numpy as np

from nightshift import prompts
from nightshift.assets.embeddings import TABLE as EMBEDDINGS
from nightshift.assets.synthesis import spend_metadata, synthesis_batches, triaged_tickets
from nightshift.assets.triage import vectors_by_id
from nightshift.batch_ledger import BatchLedger, utcnow
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.pricing import PriceTable
from nightshift.resources.answer_cache import AnswerCache
from nightshift.resources.llm import LLMProvider
from nightshift.resources.models import Prices
from nightshift.resources.vector_store import LanceDBStore
from nightshift.resources.warehouse import RESPONSES, DuckDBWarehouse
from nightshift.routing import CACHE
from nightshift.tokens import count_request, count_tokens

ANSWER_FIELDS = ("summary", "sentiment", "category", "draft_reply", "needs_human")


def entry_id(prompt_version: str, model: str, ticket_id: str) -> str:
    return f"{prompt_version}:{model}:{ticket_id}"


# A ticket with no answer to show spent nothing.
UNANSWERED = {"status": "failed", "attempts": 0, "input_tokens": 0, "output_tokens": 0, "usd": 0.0, "frontier_sync_usd": 0.0}


def from_cache(ticket: dict, entry: dict | None, prices: PriceTable) -> dict:
    """A cache-routed ticket's row: the stored answer, free; its baseline is what the frontier would have cost."""
    if entry is None:
        return {**UNANSWERED, "source": CACHE, "error": f"cache entry {ticket['cache_entry_id']} is gone"}
    would_send = prompts.reply_request(prices.frontier, ticket["text_redacted"], ticket["category"])
    tokens_in, tokens_out = count_request(would_send), count_tokens(entry["answer"])
    return {"status": "ok", "source": CACHE, "model": entry["model"], "response": entry["answer"], "attempts": 0,
            "cache_entry_id": entry["entry_id"], "input_tokens": 0, "output_tokens": 0, "usd": 0.0,
            "frontier_sync_usd": prices.cost(prices.frontier, tokens_in, tokens_out)}


def from_request(latest: dict | None, spent: dict | None) -> dict:
    if latest is None:
        return {**UNANSWERED, "source": "batch", "error": "never submitted: rematerialize synthesis_batches"}
    status = {"ok": "ok", "submitted": "pending"}.get(latest["status"], "failed")
    return {"status": status, "source": latest["mode"], "model": latest["model"], "response": latest["answer"],
            "error": latest["error"] if status == "failed" else None, "attempts": spent["attempts"], "batch_id": latest["batch_id"],
            "input_tokens": spent["input_tokens"], "output_tokens": spent["output_tokens"],
            "usd": spent["usd"], "frontier_sync_usd": spent["frontier_sync_usd"]}


@dg.asset(
    partitions_def=daily_partitions,
    deps=[synthesis_batches],
    group_name="synthesis",
    kinds={"duckdb", "lancedb"},
    pool="duckdb_writer",
)
def ticket_responses(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, answer_cache: AnswerCache,
    llm: LLMProvider, prices: Prices,
) -> dg.MaterializeResult:
    """One response per ticket in DuckDB `ticket_responses` (answer, model, tokens, $, attempts, status); good answers fill the cache.

    Collects the day's finished batches and resubmits failed, invalid, expired or cancelled requests while attempts are left.
    """
    day = partition_day(context)
    table = prices.table()
    ledger = BatchLedger(warehouse, llm.client(), table)
    collected = ledger.collect(day)
    retried, exhausted = ledger.retry(day, llm.max_attempts)
    latest, spent = ledger.latest(day), ledger.spent(day)
    triaged = triaged_tickets(warehouse, day)
    cached = answer_cache.get([t["cache_entry_id"] for t in triaged if t["route"] == CACHE and t["cache_entry_id"]])

    rows = []
    for ticket in triaged:
        tid = ticket["ticket_id"]
        if ticket["route"] == CACHE:
            row = from_cache(ticket, cached.get(ticket["cache_entry_id"]), table)
        else:
            row = from_request(latest.get(tid), spent.get(tid))
        answer = json.loads(row["response"]) if row.get("response") else {}
        rows.append({"ticket_id": tid, "day": day, "route": ticket["route"], "prompt_version": prompts.SUPPORT_REPLY,
                     **{k: answer.get(k) for k in ANSWER_FIELDS}, **row})
    warehouse.replace_day(day, {"ticket_responses": (rows, RESPONSES)})

    fresh = [r for r in rows if r["status"] == "ok" and r["source"] != CACHE]
    by_id = vectors_by_id(vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "vector"]))
    category = {t["ticket_id"]: t["category"] for t in triaged}
    entries = [{"entry_id": entry_id(r["prompt_version"], r["model"], r["ticket_id"]), "vector": by_id[r["ticket_id"]],
                "answer": r["response"], "category": category[r["ticket_id"]], "prompt_version": r["prompt_version"],
                "model": r["model"], "source_ticket_id": r["ticket_id"], "created_at": utcnow()}
               for r in fresh if r["ticket_id"] in by_id]
    if entries:
        answer_cache.add(entries, dim=len(entries[0]["vector"]))

    status = Counter(r["status"] for r in rows)
    turnaround = warehouse.query(
        "SELECT max(epoch(finished_at) - epoch(submitted_at)) AS s FROM llm_batches WHERE day = ? AND finished_at IS NOT NULL", [day]
    ).to_pylist()[0]["s"]
    failed = [r for r in rows if r["status"] == "failed"]
    return dg.MaterializeResult(metadata={
        "tickets": len(rows),
        **{f"status_{name}": status.get(name, 0) for name in ("ok", "pending", "failed")},
        "cache_served": sum(r["source"] == CACHE and r["status"] == "ok" for r in rows),
        "cache_added": len(entries),
        **spend_metadata(rows),
        "mean_attempts": float(np.mean([r["attempts"] for r in rows if r["source"] != CACHE] or [0])),
        "batch_turnaround_s": float(turnaround or 0.0),
        **collected,
        "batches_resubmitted": len(retried),
        "requests_out_of_attempts": exhausted,
        "failures": dg.MetadataValue.md(
            "| ticket | route | attempts | error |\n|---|---|---|---|\n"
            + "".join(f"| {r['ticket_id']} | {r['route']} | {r['attempts']} | {r['error']} |\n" for r in failed[:20])
            if failed else "none"
        ),
        "dagster/row_count": len(rows),
    })
