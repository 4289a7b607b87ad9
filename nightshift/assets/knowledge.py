"""knowledge_base (the help centre as passages in LanceDB) and ticket_context (each ticket's evidence in DuckDB)."""

import hashlib
from collections import Counter

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nightshift.knowledge.chunking import chunk_article
from nightshift.lib.markdown import markdown_table
from nightshift.orchestration.chunks import Chunk, day_chunks
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.answer_cache import AnswerCache
from nightshift.resources.chunk_results import ChunkResults
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.knowledge import KnowledgeBase
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore, id_range
from nightshift.resources.vector_store import by_id as by_id_of
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.database import BLOCK
from nightshift.warehouse.schema import TABLES


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


SEARCHED = b"searched"  # tickets of a chunk with a vector, searched


@dg.op(out=dg.Out(io_manager_key="chunk_results"))
def search_chunk(context: dg.OpExecutionContext, chunk: Chunk, warehouse: DuckDBWarehouse, vectors: LanceDBStore,
                 knowledge: KnowledgeBase) -> pa.Table:
    """A chunk's tickets searched: their passages as `ticket_context` rows."""
    day = partition_day(context)
    rows = vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "vector"], id_range(chunk.first, chunk.until))
    by_id = by_id_of(rows) if rows is not None else {}
    index = knowledge.index()
    found_rows, searched = [], 0
    for block in warehouse.tickets.texts(day, BLOCK, chunk.first, chunk.until):
        tickets = [t for t in block if t["ticket_id"] in by_id]
        if not tickets:
            continue
        found = index.search([t["text_redacted"] for t in tickets], np.stack([by_id[t["ticket_id"]] for t in tickets]),
                             knowledge.top_k, knowledge.floor)
        searched += len(tickets)
        found_rows += [{"ticket_id": t["ticket_id"], "day": day, "rank": h.rank, "chunk_id": h.chunk_id, "article_id": h.article_id,
                        "title": h.title, "article_version": h.article_version, "score": h.score, "similarity": h.similarity,
                        "text": h.text} for t, hits in zip(tickets, found) for h in hits]
    return pa.Table.from_pylist(found_rows, schema=TABLES["ticket_context"].arrow.with_metadata({SEARCHED: str(searched)}))


@dg.op(pool="duckdb_writer", ins={"after": dg.In(dg.Nothing)})
@traced
def store_context(context: dg.OpExecutionContext, chunks: list[pa.Table], warehouse: DuckDBWarehouse, knowledge: KnowledgeBase,
                  chunk_results: dg.ResourceParam[ChunkResults]) -> None:
    """The day's passages replaced by the chunks' in one transaction."""
    day = partition_day(context)
    stored = warehouse.context.replace_day(day, (table.to_pylist() for table in chunks))
    searched = sum(int((table.schema.metadata or {}).get(SEARCHED, 0)) for table in chunks)
    firsts = [row for table in chunks for row in table.filter(pc.equal(table["rank"], 1)).select(["similarity", "title"]).to_pylist()]
    best = [row["similarity"] for row in firsts]  # each ticket's best similarity, for those with a passage
    cited = Counter(row["title"] for row in firsts)  # the article each ticket's best passage is from
    context.add_output_metadata(typed({
        "tickets": searched, "with_passages": len(best), "without_passages": searched - len(best), "chunks": len(chunks),
        "grounding": "on" if knowledge.enabled() else "off: the knowledge base is empty",
        "top_k": knowledge.top_k, "floor": knowledge.floor,
        "mean_best_similarity": float(np.mean(best)) if best else 0.0,
        "top_articles": dg.MetadataValue.md(markdown_table(("article", "tickets it ranks first for"), cited.most_common(10))),
        "dagster/row_count": stored,
    }))
    chunk_results.clear_after(context)


@dg.graph_asset(
    partitions_def=daily_partitions,
    ins={"ticket_embeddings": dg.AssetIn(dagster_type=dg.Nothing), "knowledge_base": dg.AssetIn(dagster_type=dg.Nothing)},
    group_name="nightly",
    kinds={"lancedb", "duckdb"},
)
def ticket_context(ticket_embeddings, knowledge_base) -> None:
    """Each ticket's best knowledge-base passages in DuckDB `ticket_context` (rank, fused score, similarity, article version,
    text): hybrid search, vector and full text fused by reciprocal rank, top k above a similarity floor, searched in
    chunks that workers run side by side.

    A ticket with no passage above the floor has no rows: triage keeps it from the small model and the cache.
    """
    return store_context(day_chunks(ticket_embeddings).map(search_chunk).collect(), after=knowledge_base)
