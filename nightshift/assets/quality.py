"""answer_quality: each sampled cheap answer judged against the frontier model's answer to the same ticket."""

import json
from collections import Counter

import dagster as dg

from nightshift.assets.responses import ticket_responses
from nightshift.lib.markdown import markdown_table
from nightshift.llm.ledger import BatchLedger
from nightshift.llm.pricing import PriceTable
from nightshift.llm.requests import JUDGE, SHADOW
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.quality.judging import JUDGED, judge_requests_and_rows
from nightshift.quality.sampling import SHADOWED_ROUTES
from nightshift.resources.answer_cache import AnswerCache, entry_id
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.llm import PROVIDER_RETRY, LLMProvider, permanent_errors_fail_fast
from nightshift.resources.models import Prices
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.triage.routing import CACHE


def as_judged(answers: dict[str, dict], prices: PriceTable) -> dict[str, dict]:
    """The cheap answers as the judge saw them: one taken back since (given the frontier's answer instead) is judged as
    it was, by the model of its route, so its verdict stands; one whose cache entry was gone had nothing to judge."""
    return {tid: a if not a["replaced_because"] else {
        **a, "response": a["replaced_response"], "status": "ok" if a["replaced_response"] else "failed", "error": a["replaced_because"],
        "model": a["model"] if a["route"] == CACHE else prices.routes.get(a["route"], a["model_asked"]),
        "model_asked": a["model_asked"] if a["route"] == CACHE else prices.routes.get(a["route"], a["model_asked"])} for tid, a in answers.items()}


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_responses],
    group_name="nightly",
    kinds={"openai", "duckdb"},
    pool="llm_provider",
    retry_policy=PROVIDER_RETRY,
)
@traced
def answer_quality(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, answer_cache: AnswerCache, llm: LLMProvider, prices: Prices,
    knowledge: KnowledgeBase,
) -> dg.MaterializeResult:
    """One row per sampled cheap answer in DuckDB `answer_quality`: the judge's verdict (same intent? acceptable to send?
    every claim supported by the passages it cites? why) and the $ of the shadow and judge requests.

    Once a sample's two answers are in, its judge request goes out in a batch at batch price; the sensor then collects
    the day once more, and this asset writes the verdicts. A rejected answer leaves the answer cache: the entry a cache
    route served, or the small model's own answer.
    """
    with permanent_errors_fail_fast():
        day = partition_day(context)
        table = prices.table()
        ledger = BatchLedger(warehouse.db, llm.providers(), table)
        # Only the samples are read: their shadow and judge requests, their cheap answers and their tickets' texts.
        latest = ledger.latest(day, kinds=(SHADOW, JUDGE))
        shadows = [row for row in latest.values() if row["kind"] == SHADOW]
        sampled = [row["ticket_id"] for row in shadows]
        answers, texts = as_judged(warehouse.answers.by_ticket(day, sampled), table), warehouse.tickets.texts_of(day, sampled)
        cited = [c for s in shadows for c in json.loads((answers.get(s["ticket_id"]) or {}).get("response") or "{}").get("citations") or []]
        passages = knowledge.index().passages(cited) if knowledge.enabled() else None
        requests, rows = judge_requests_and_rows(shadows, answers, latest, ledger.spent(day, kinds=(SHADOW, JUDGE)), texts, table, passages)
        # Every collection of the day runs this: a judge out of attempts is reported (unmeasured), never sent again.
        states = ledger.send(day, ledger.plan(day, requests, (JUDGE,), llm.max_attempts))[1]
        warehouse.quality.replace_day(day, [{**r, "day": day} for r in rows])
        rejected = [r for r in rows if r["status"] == JUDGED and not r["agrees"]]
        evicted = answer_cache.remove([
            answers[r["ticket_id"]]["cache_entry_id"] if r["route"] == CACHE
            else entry_id(answers[r["ticket_id"]]["prompt_version"], answers[r["ticket_id"]]["model_asked"], r["ticket_id"]) for r in rejected])

        status = Counter(r["status"] for r in rows)
        metadata: dict = {"samples": len(rows), **{f"samples_{name}": status.get(name, 0) for name in ("judged", "pending", "unmeasured")},
                          "judge_batches_submitted": len(states), "cache_evicted": evicted,
                          "shadow_usd": round(sum(r["shadow_usd"] for r in rows), 6), "judge_usd": round(sum(r["judge_usd"] for r in rows), 6)}
        for route in SHADOWED_ROUTES:
            judged = [r for r in rows if r["route"] == route and r["status"] == JUDGED]
            metadata[f"judged_{route}"] = len(judged)
            if judged:
                metadata[f"agreement_{route}_today"] = sum(r["agrees"] for r in judged) / len(judged)
            checked = [r for r in judged if r["supported"] is not None]
            if checked:
                metadata[f"supported_{route}_today"] = sum(r["supported"] for r in checked) / len(checked)
        metadata["disagreements"] = dg.MetadataValue.md(markdown_table(
            ("ticket", "route", "model", "judge's reason"), [(r["ticket_id"], r["route"], r["model"], r["reason"]) for r in rejected[:20]],
            "none"))
        context.log.info(f"{day}: {status.get(JUDGED, 0)} of {len(rows)} samples judged, {len(rejected)} disagreed, {evicted} cache entries removed")
        return dg.MaterializeResult(metadata=typed(metadata))
