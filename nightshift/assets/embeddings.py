"""ticket_embeddings: the day's redacted tickets as vectors in LanceDB, keyed by ticket id."""

import time
from typing import Any

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nightshift.assets.ingest import raw_tickets
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import daily_partitions, partition_day
from nightshift.orchestration.tracing import traced
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore, matrix_of
from nightshift.resources.warehouse import DuckDBWarehouse
from nightshift.warehouse.database import BLOCK


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


@dg.asset(
    partitions_def=daily_partitions,
    deps=[raw_tickets],
    group_name="nightly",
    kinds={"lancedb"},
    pool="lancedb_writer",
)
@traced
def ticket_embeddings(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, embedder: EmbedderResource
) -> dg.MaterializeResult:
    """Vectors of the day's redacted tickets in LanceDB `ticket_embeddings` (id, day, vector, model, text hash).

    A rerun re-embeds only tickets whose text or model changed.
    """
    day = partition_day(context)
    model = embedder.embedder
    previous = vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "text_hash", "model_id", "vector"])
    reusable: dict[tuple[str, str], np.ndarray] = {}
    if previous is not None:
        # A rerun rewrites the day; what it embedded before under the same text and model is reused, not recomputed.
        vectors.delete_day(EMBEDDINGS, day)
        previous = previous.filter(pc.equal(previous["model_id"], model.model_id))
        keys = zip(previous["ticket_id"].to_pylist(), previous["text_hash"].to_pylist())
        reusable = dict(zip(keys, matrix_of(previous)))
    stored, _ = warehouse.tickets.counts(day)
    tickets = embedded = 0
    seconds = 0.0
    # A block at a time (read, embed, append): a 100,000-ticket day never sits in memory as text, vectors and table at once.
    for block in warehouse.tickets.texts(day, BLOCK):
        todo = [t for t in block if key(t) not in reusable]
        started = time.perf_counter()
        fresh = iter(model.embed([t["text_redacted"] for t in todo]))
        seconds += time.perf_counter() - started
        matrix = np.stack([reusable[key(t)] if key(t) in reusable else next(fresh) for t in block])
        vectors.add(EMBEDDINGS, embedding_rows([t["ticket_id"] for t in block], day.isoformat(), matrix, model.model_id,
                                               [t["text_hash"] for t in block]))
        tickets, embedded = tickets + len(block), embedded + len(todo)
        context.log.info(f"embedded {tickets}/{stored}")
    if not tickets:
        context.log.info(f"No tickets stored for {day}; nothing to embed.")
    metadata: dict[str, Any] = {
        "tickets": tickets,
        "embedded": embedded,
        "reused": tickets - embedded,
        "model_id": model.model_id,
        "embed_seconds": round(seconds, 3),
        "dagster/row_count": tickets,
    }
    if embedded:
        metadata["tickets_per_s"] = round(embedded / seconds, 1)
    return dg.MaterializeResult(metadata=typed(metadata))
