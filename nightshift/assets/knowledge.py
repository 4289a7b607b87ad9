"""knowledge_base (the help centre as passages in LanceDB) and ticket_context (each ticket's evidence in DuckDB)."""

import hashlib
from collections import Counter
from collections.abc import Iterator

import dagster as dg
import numpy as np

from nightshift.assets.embeddings import ticket_embeddings
from nightshift.knowledge.chunking import chunk_article
from nightshift.lib.markdown import markdown_table
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.answer_cache import AnswerCache
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.database import BLOCK


@dg.asset(group_name="nightly", kinds={"lancedb"}, pool="lancedb_writer")
@traced
def knowledge_base(
    context: dg.AssetExecutionContext, knowledge: KnowledgeBase, embedder: EmbedderResource, answer_cache: AnswerCache,
) -> dg.MaterializeResult:
    """The help centre's articles and macros, cut into passages, embedded, in LanceDB `kb_chunks` with a full-text index.

    Versioned by content: an unchanged article keeps its passages and vectors, an edited one is re-embedded, a deleted
    one disappears. Cached answers that cited an article version no longer current are retired from the answer cache.
    """
    articles = knowledge.articles()
    chunks = [chunk for article in articles for chunk in chunk_article(article, knowledge.max_chars)]
    sync = knowledge.index().sync(chunks, embedder.embedder.embed, len(articles))
    versions = {a.article_id: a.version for a in articles}
    retired = answer_cache.retire(versions)
    version = hashlib.sha256("\n".join(f"{k}@{v}" for k, v in sorted(versions.items())).encode()).hexdigest()[:16]
    context.log.info(f"knowledge base {version}: {sync.articles} articles, {sync.chunks} passages, {sync.added} embedded, "
                     f"{sync.removed} removed, {retired} cached answers retired")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata=typed({"folder": knowledge.folder, "version": version, "articles": sync.articles, "chunks": sync.chunks,
                  "added": sync.added, "removed": sync.removed, "reused": sync.reused, "cache_retired": retired,
                  "grounding": "on" if sync.chunks else "off: no articles in the folder, answers cite nothing",
                  "dagster/row_count": sync.chunks}),
    )


@dg.asset(
    partitions_def=daily_partitions,
    deps=[ticket_embeddings, knowledge_base],
    group_name="nightly",
    kinds={"lancedb", "duckdb"},
    pool="duckdb_writer",
)
@traced
def ticket_context(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, knowledge: KnowledgeBase,
) -> dg.MaterializeResult:
    """Each ticket's best knowledge-base passages in DuckDB `ticket_context` (rank, fused score, similarity, article version,
    text): hybrid search, vector and full text fused by reciprocal rank, top k above a similarity floor.

    A ticket with no passage above the floor has no rows: triage keeps it from the small model and the cache.
    """
    day = partition_day(context)
    by_id = vectors.vectors(EMBEDDINGS, day)
    index = knowledge.index()
    best: list[float] = []  # each ticket's best similarity, for those with a passage
    cited: Counter[str] = Counter()  # the article each ticket's best passage is from
    searched: Counter[str] = Counter()  # tickets with a vector, searched

    def blocks() -> Iterator[list[dict]]:
        for block in warehouse.tickets.texts(day, BLOCK):
            tickets = [t for t in block if t["ticket_id"] in by_id]
            if not tickets:
                continue
            found = index.search([t["text_redacted"] for t in tickets], np.stack([by_id[t["ticket_id"]] for t in tickets]),
                                 knowledge.top_k, knowledge.floor)
            searched["tickets"] += len(tickets)
            best.extend(hits[0].similarity for hits in found if hits)
            cited.update(hits[0].title for hits in found if hits)
            yield [{"ticket_id": t["ticket_id"], "day": day, "rank": h.rank, "chunk_id": h.chunk_id, "article_id": h.article_id,
                    "title": h.title, "article_version": h.article_version, "score": h.score, "similarity": h.similarity,
                    "text": h.text} for t, hits in zip(tickets, found) for h in hits]

    stored = warehouse.context.replace_day(day, blocks())
    return dg.MaterializeResult(metadata=typed({
        "tickets": searched["tickets"], "with_passages": len(best), "without_passages": searched["tickets"] - len(best),
        "grounding": "on" if knowledge.enabled() else "off: the knowledge base is empty",
        "top_k": knowledge.top_k, "floor": knowledge.floor,
        "mean_best_similarity": float(np.mean(best)) if best else 0.0,
        "top_articles": dg.MetadataValue.md(markdown_table(("article", "tickets it ranks first for"), cited.most_common(10))),
        "dagster/row_count": stored,
    }))
