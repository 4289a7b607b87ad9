"""synthesis_batches: the day's requests go out, one batch per model; realtime tickets are answered now."""

from collections import Counter
from datetime import date, timedelta

import dagster as dg
import numpy as np

from nightshift.assets.triage import ticket_triage
from nightshift.llm.ledger import BatchLedger
from nightshift.llm.pricing import spend_summary
from nightshift.llm.requests import DIGEST, REPLY, SAFETY, SHADOW, digest_request, reply_requests, safety_requests, shadow_requests
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.quality.sampling import shadow_sample
from nightshift.reporting import themes
from nightshift.resources.llm import PROVIDER_RETRY, LLMProvider, permanent_errors_fail_fast
from nightshift.resources.models import Prices
from nightshift.resources.quality import QualityPolicy
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse


def find_material(warehouse: DuckDBWarehouse, vectors: LanceDBStore, day: date, triaged: list[dict]) -> dict:
    """The day's clusters and the categories that rose against the trailing week: what the digest is written from."""
    by_id = vectors.vectors(EMBEDDINGS, day)
    rows = [r for r in triaged if r["ticket_id"] in by_id]
    if not rows:
        return themes.as_row(day, 0, [], [])
    found = themes.themes(np.stack([by_id[r["ticket_id"]] for r in rows]), [r["ticket_id"] for r in rows],
                          [r["text_redacted"] for r in rows], [r["category"] for r in rows])
    trailing = warehouse.triage.category_counts(day - timedelta(days=themes.TRAILING_DAYS), day)
    return themes.as_row(day, len(rows), found, themes.spikes(Counter(r["category"] for r in rows), trailing))


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_triage],
    group_name="nightly",
    kinds={"openai", "duckdb"},
    pool="llm_provider",
    retry_policy=PROVIDER_RETRY,
)
def synthesis_batches(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, llm: LLMProvider, prices: Prices,
    quality: QualityPolicy,
) -> dg.MaterializeResult:
    """Submits the day's reply requests (one batch per model, with the digest) and records them in DuckDB `llm_batches`.
    Each reply request quotes the ticket's passages from `ticket_context`, and its answer must cite only those.

    A sample of the cache and small-model tickets goes to the frontier model too (shadow requests, in its batch), for the
    judge. The safety classifier's requests for the flagged and sampled tickets go to the small model's batch. Realtime
    tickets are answered synchronously, at full price. Nothing is sent twice: answered requests are reused.
    """
    with permanent_errors_fail_fast():
        day = partition_day(context)
        table = prices.table()
        ledger = BatchLedger(warehouse.db, llm.client(), table)
        in_flight = ledger.open_batches(day)
        if in_flight:
            # A second submission would pay twice for the same answers; the sensor will collect these.
            context.log.warning(f"{len(in_flight)} batches of {day} are still open; nothing submitted")
            return dg.MaterializeResult(metadata=typed({"submitted_batches": 0, "open_batches": len(in_flight),
                                                  "batch_ids": ", ".join(b["batch_id"] for b in in_flight)}))
        triaged = warehouse.triage.triaged(day)
        sampled = shadow_sample(triaged, quality.shadow_share, quality.shadow_min, quality.shadow_max or None)
        passages = warehouse.context.passages(day)
        screened = warehouse.safety.to_classify(day)
        requests = reply_requests(triaged, table, passages) + shadow_requests(sampled, table, passages) + safety_requests(screened, table)
        material = find_material(warehouse, vectors, day, triaged)
        warehouse.answers.replace_material(day, material)
        found, rising, n = themes.from_row(material)
        if n:
            requests.append(digest_request(day.isoformat(), *themes.describe(found, rising), table))
        todo = ledger.plan(day, requests, (REPLY, DIGEST, SHADOW, SAFETY))
        answered = ledger.answer_now(day, todo)
        states = ledger.submit(day, todo)
        per_model = Counter(request.model for request, _ in todo if request.mode == "batch")
        metadata = {
            "requests": len(requests),
            "reused": len(requests) - len(todo),
            "shadow_requests": len(sampled),
            "safety_requests": len(screened),
            "submitted_requests": sum(per_model.values()),
            "submitted_batches": len(states),
            **{f"requests_{model}": count for model, count in sorted(per_model.items())},
            "realtime_answered": sum(o["status"] == "ok" for o in answered),
            "realtime_failed": sum(o["status"] != "ok" for o in answered),
            # What this materialization spent (the realtime answers); batch $ are counted when collected.
            **spend_summary(answered),
            "provider": llm.provider,
            "batch_ids": ", ".join(s.id for s in states) or "none",
        }
        context.log.info(f"{day}: {metadata['submitted_requests']} requests in {len(states)} batches, {len(answered)} answered now")
        return dg.MaterializeResult(metadata=typed(metadata))
