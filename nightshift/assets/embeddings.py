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
from nightshift.resources.embedder import EmbedderResource
from nightshift.resources.vector_store import EMBEDDINGS, LanceDBStore, matrix_of
from nightshift.resources.warehouse import DuckDBWarehouse


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
def ticket_embeddings(
    context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse, vectors: LanceDBStore, embedder: EmbedderResource
) -> dg.MaterializeResult:
    """Vectors of the day's redacted tickets in LanceDB `ticket_embeddings` (id, day, vector, model, text hash).

    A rerun re-embeds only tickets whose text or model changed.
    """
    day = partition_day(context)
    tickets = warehouse.tickets.texts(day)
    model = embedder.embedder
    previous = vectors.day_rows(EMBEDDINGS, day, ["ticket_id", "text_hash", "model_id", "vector"])
    reusable: dict[tuple[str, str], np.ndarray] = {}
    if previous is not None:
        previous = previous.filter(pc.equal(previous["model_id"], model.model_id))
        keys = zip(previous["ticket_id"].to_pylist(), previous["text_hash"].to_pylist())
        reusable = dict(zip(keys, matrix_of(previous)))
    todo = [t for t in tickets if (t["ticket_id"], t["text_hash"]) not in reusable]

    reported = 0

    def progress(done: int, total: int) -> None:
        nonlocal reported
        if done == total or done - reported >= 1000:
            reported = done
            context.log.info(f"embedded {done}/{total}")

    started = time.perf_counter()
    fresh = model.embed([t["text_redacted"] for t in todo], progress)
    seconds = time.perf_counter() - started
    by_id = {t["ticket_id"]: v for t, v in zip(todo, fresh)}

    if tickets:
        matrix = np.stack([by_id[t["ticket_id"]] if t["ticket_id"] in by_id else reusable[(t["ticket_id"], t["text_hash"])]
                           for t in tickets])
        vectors.replace_day(
            EMBEDDINGS, day,
            embedding_rows([t["ticket_id"] for t in tickets], day.isoformat(), matrix, model.model_id, [t["text_hash"] for t in tickets]),
            key="ticket_id",
        )
    else:
        vectors.delete_day(EMBEDDINGS, day)
        context.log.info(f"No tickets stored for {day}; nothing to embed.")
    metadata: dict[str, Any] = {
        "tickets": len(tickets),
        "embedded": len(todo),
        "reused": len(tickets) - len(todo),
        "model_id": model.model_id,
        "embed_seconds": round(seconds, 3),
        "dagster/row_count": len(tickets),
    }
    if todo:
        metadata["tickets_per_s"] = round(len(todo) / seconds, 1)
    return dg.MaterializeResult(metadata=typed(metadata))
