"""cached_answers: the day's good answers go into the LanceDB answer cache, after the checks on ticket_responses pass."""

import json

import dagster as dg

from nightshift.assets.quality import answer_quality
from nightshift.assets.responses import ticket_responses
from nightshift.lib.clock import utcnow
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.answer_cache import AnswerCache, entry_id
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.database import BLOCK


@dg.asset(
    partitions_def=daily_partitions,
    # After answer_quality: an answer the judge rejected stays out.
    deps=[ticket_responses, answer_quality],
    group_name="nightly",
    kinds={"lancedb"},
    pool="lancedb_writer",
)
@traced
def cached_answers(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, answer_cache: AnswerCache,
    knowledge: KnowledgeBase,
) -> dg.MaterializeResult:
    """The day's model answers, keyed by prompt version, model and ticket, added to the semantic answer cache with the
    article versions they cite: knowledge_base retires an entry when one of those articles changes.

    Runs only after the blocking schema and PII checks on ticket_responses pass, and leaves out answers the judge
    rejected: a bad answer must never be served again.
    """
    day = partition_day(context)
    index = knowledge.index()
    answers = added = 0
    for fresh in warehouse.answers.fresh_for_cache(day, BLOCK):
        by_id = vectors.vectors_of(EMBEDDINGS, [r["ticket_id"] for r in fresh])
        cites = {r["ticket_id"]: json.loads(r["response"]).get("citations") or [] for r in fresh}
        passages = index.passages([c for ids in cites.values() for c in ids])
        entries = [{"entry_id": entry_id(r["prompt_version"], r["model"], r["ticket_id"]), "vector": by_id[r["ticket_id"]],
                    "answer": r["response"], "category": r["category"], "prompt_version": r["prompt_version"],
                    "model": r["model"], "source_ticket_id": r["ticket_id"], "source_day": day, "created_at": utcnow(),
                    "cited_versions": sorted({f"{passages[c]['article_id']}@{passages[c]['article_version']}"
                                              for c in cites[r["ticket_id"]] if c in passages})}
                   # An answer whose cited passage left the knowledge base since it was written rests on nothing current.
                   for r in fresh if r["ticket_id"] in by_id and all(c in passages for c in cites[r["ticket_id"]])]
        if entries:
            answer_cache.add(entries, dim=len(entries[0]["vector"]))
        answers, added = answers + len(fresh), added + len(entries)
    return dg.MaterializeResult(metadata=typed({"answers": answers, "cache_added": added,
                                                "withheld_by_judge": warehouse.quality.rejected(day),
                                                "not_cached": answers - added}))
