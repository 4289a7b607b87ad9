"""ticket_embeddings: the day's redacted tickets as vectors in LanceDB, keyed by ticket id, embedded in chunks."""

import time
from typing import Any

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nightshift.orchestration.chunks import Chunk, day_chunks
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.chunk_results import ChunkResults
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore, id_range, matrix_of
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.database import BLOCK

# How many it embedded, how long the model took, and which model it was, carried to the last op in the chunk's table.
COUNTS = (b"embedded", b"embed_seconds", b"model_id")


def key(ticket: dict) -> tuple[str, str]:
    """What makes a stored vector reusable: the same ticket with the same text."""
    return ticket["ticket_id"], ticket["text_hash"]


def embedding_rows(ids: list[str], day: str, vectors: np.ndarray, model_id: str, hashes: list[str]) -> pa.Table:
    dim = vectors.shape[1]
    return pa.table({
        "ticket_id": pa.array(ids, pa.string()),
        "day": pa.array([day] * len(ids), pa.string()),
        "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), dim),
        "model_id": pa.array([model_id] * len(ids), pa.string()),
        "text_hash": pa.array(hashes, pa.string()),
    })


@dg.op(out=dg.Out(io_manager_key="chunk_results"))
def embed_chunk(context: dg.OpExecutionContext, chunk: Chunk, warehouse: DuckDBWarehouse, vectors: LanceDBStore,
                embedder: EmbedderResource) -> pa.Table:
    """One chunk's vectors. What the day stored before under the same text and model is reused, not recomputed."""
    day = partition_day(context)
    model = embedder.embedder
    previous = vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "text_hash", "model_id", "vector"], id_range(chunk.first, chunk.until))
    reusable: dict[tuple[str, str], np.ndarray] = {}
    if previous is not None:
        previous = previous.filter(pc.equal(previous["model_id"], model.model_id))
        reusable = dict(zip(zip(previous["ticket_id"].to_pylist(), previous["text_hash"].to_pylist()), matrix_of(previous)))
    parts: list[pa.Table] = []
    embedded, seconds = 0, 0.0
    for block in warehouse.tickets.texts(day, BLOCK, chunk.first, chunk.until):
        todo = [t for t in block if key(t) not in reusable]
        started = time.perf_counter()
        fresh = iter(model.embed([t["text_redacted"] for t in todo]))
        seconds += time.perf_counter() - started
        matrix = np.stack([reusable[key(t)] if key(t) in reusable else next(fresh) for t in block])
        parts.append(embedding_rows([t["ticket_id"] for t in block], day.isoformat(), matrix, model.model_id,
                                    [t["text_hash"] for t in block]))
        embedded += len(todo)
    table = pa.concat_tables(parts) if parts else pa.table({})  # a chunk of no tickets: no columns, no rows
    context.log.info(f"{chunk.key}: {table.num_rows} tickets, {embedded} embedded")
    return table.replace_schema_metadata(dict(zip(COUNTS, (str(embedded).encode(), str(seconds).encode(), model.model_id.encode()))))


@dg.op(pool="lancedb_writer")
@traced
def store_embeddings(context: dg.OpExecutionContext, chunks: list[pa.Table],
                     vectors: LanceDBStore, chunk_results: dg.ResourceParam[ChunkResults]) -> None:
    """The day's vectors replaced by the chunks': each chunk upserted by ticket id in one commit, then the vectors of
    tickets no longer in the day deleted. A store that fails part way leaves every ticket a vector, its old or its new
    one (the check sees a stale one), never none; the rerun completes it."""
    day = partition_day(context)
    tickets = embedded = 0
    seconds = 0.0
    kept: set[str] = set()
    for table in chunks:
        counts = table.schema.metadata or {}
        embedded += int(counts.get(COUNTS[0], 0))
        seconds += float(counts.get(COUNTS[1], 0.0))
        if table.num_rows:
            vectors.upsert(EMBEDDINGS, table.replace_schema_metadata(None))
            kept.update(table["ticket_id"].to_pylist())
            tickets += table.num_rows
    vectors.delete_day_except(EMBEDDINGS, day, kept)
    context.log.info(f"embedded {embedded} of {tickets} tickets in {len(chunks)} chunks" if tickets
                     else f"No tickets stored for {day}; nothing to embed.")
    metadata: dict[str, Any] = {
        "tickets": tickets,
        "embedded": embedded,
        "reused": tickets - embedded,
        "chunks": len(chunks),
        "model_id": ", ".join(sorted({(t.schema.metadata or {}).get(COUNTS[2], b"").decode() for t in chunks})),
        "embed_seconds": round(seconds, 3),
        "dagster/row_count": tickets,
    }
    if embedded:
        metadata["tickets_per_s"] = round(embedded / seconds, 1)
    context.add_output_metadata(typed(metadata))
    chunk_results.clear_after(context)


@dg.graph_asset(
    partitions_def=daily_partitions,
    ins={"raw_tickets": dg.AssetIn(dagster_type=dg.Nothing)},
    group_name="nightly",
    kinds={"lancedb"},
)
def ticket_embeddings(raw_tickets) -> None:
    """Vectors of the day's redacted tickets in LanceDB `ticket_embeddings` (id, day, vector, model, text hash),
    embedded in chunks of NIGHTSHIFT_CHUNK_TICKETS tickets that workers run side by side.

    A rerun re-embeds only tickets whose text or model changed.
    """
    return store_embeddings(day_chunks(raw_tickets).map(embed_chunk).collect())
