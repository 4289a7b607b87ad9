"""The knowledge base in LanceDB (`kb_chunks`): passages with their vectors and a full-text index, searched three ways.

Hybrid search runs a vector search and a BM25 full-text search and fuses the two rankings by reciprocal rank,
as LanceDB's RRFReranker does; vector-only and full-text-only are kept for the evaluation that compares them. Every hit
also carries its cosine similarity to the ticket, because fused scores only rank: the floor that decides whether a
passage is evidence at all is a similarity.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import lancedb
import numpy as np
import pyarrow as pa
from lancedb.index import FTS

from nightshift.knowledge.chunking import Chunk

TABLE = "kb_chunks"
HYBRID, VECTOR, FULL_TEXT = "hybrid", "vector", "fts"
MODES = (HYBRID, VECTOR, FULL_TEXT)
COLUMNS = ["chunk_id", "article_id", "title", "source", "article_version", "position", "heading", "text", "label", "search_text"]


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    article_id: str
    title: str
    article_version: str
    text: str
    label: str | None
    rank: int            # 1 = best
    score: float         # the mode's own score: fused RRF relevance, BM25, or similarity
    similarity: float    # cosine similarity of ticket and passage


@dataclass(frozen=True)
class Sync:
    """What a refresh of the knowledge base changed."""

    articles: int
    chunks: int
    added: int      # passages embedded now
    removed: int    # passages of edited or deleted articles, gone
    reused: int     # passages kept with their vector
    changed: bool


def chunk_table(chunks: Sequence[Chunk], vectors: np.ndarray) -> pa.Table:
    dim = vectors.shape[1] if len(vectors) else 384
    columns = {name: [getattr(c, name) for c in chunks] for name in COLUMNS}
    schema = pa.schema([(name, pa.int32() if name == "position" else pa.string()) for name in COLUMNS]
                       + [("vector", pa.list_(pa.float32(), dim))])
    arrays = [pa.array(columns[name], schema.field(name).type) for name in COLUMNS]
    arrays.append(pa.FixedSizeListArray.from_arrays(pa.array(np.asarray(vectors, np.float32).reshape(-1), pa.float32()), dim))
    return pa.Table.from_arrays(arrays, schema=schema)


class KnowledgeIndex:
    def __init__(self, db):
        self.db = db  # a LanceDB connection

    def table(self):
        try:
            return self.db.open_table(TABLE)
        except ValueError:
            return None

    def rows(self, columns: list[str], where: str | None = None) -> list[dict]:
        table = self.table()
        if table is None:
            return []
        query = table.search()
        if where:
            query = query.where(where)
        return query.select(columns).limit(None).to_list()

    def versions(self) -> dict[str, str]:
        """Each article's current version."""
        return {r["article_id"]: r["article_version"] for r in self.rows(["article_id", "article_version"])}

    def passages(self, chunk_ids: Sequence[str]) -> dict[str, dict]:
        """Passages by id (title, text, article and version); ids no longer in the knowledge base are absent."""
        if not chunk_ids:
            return {}
        quoted = ", ".join("'" + c.replace("'", "''") + "'" for c in sorted(set(chunk_ids)))
        found = self.rows(["chunk_id", "article_id", "title", "article_version", "text"], f"chunk_id IN ({quoted})")
        return {r["chunk_id"]: r for r in found}

    def sync(self, chunks: Sequence[Chunk], embed: Callable[[list[str]], np.ndarray], articles: int) -> Sync:
        """Make `kb_chunks` hold exactly ``chunks``: new passages embedded, unchanged ones keep their vectors."""
        old = {r["chunk_id"]: r for r in self.rows(["chunk_id", "article_version", "vector"])}
        new_ids = {c.chunk_id for c in chunks}
        fresh = [c for c in chunks if c.chunk_id not in old]
        removed = len(set(old) - new_ids)
        if not fresh and not removed and all(old[c.chunk_id]["article_version"] == c.article_version for c in chunks):
            return Sync(articles, len(chunks), 0, 0, len(chunks), changed=False)
        embedded = dict(zip((c.chunk_id for c in fresh), embed([c.search_text for c in fresh]))) if fresh else {}
        vectors = np.asarray([embedded[c.chunk_id] if c.chunk_id in embedded else old[c.chunk_id]["vector"] for c in chunks],
                             np.float32).reshape(len(chunks), -1)
        table = self.db.create_table(TABLE, chunk_table(chunks, vectors), mode="overwrite")
        if chunks:
            table.create_index("search_text", config=FTS(), replace=True)
        return Sync(articles, len(chunks), len(fresh), removed, len(chunks) - len(fresh), changed=True)

    def search(self, texts: Sequence[str], vectors: np.ndarray, k: int, floor: float = -1.0, mode: str = HYBRID,
               block: int = 2000) -> list[list[Hit]]:
        """The top ``k`` passages per ticket whose similarity clears ``floor``, best first.

        Each leg runs once per block of ``block`` tickets, not once per ticket: the vector leg as one multi-vector query,
        the full-text leg as concurrent queries on LanceDB's async API. A per-ticket hybrid query spends about 4 ms in
        planning and a thread pool of its own; this way a ticket costs well under 1 ms, and memory stays that of a
        block. The two rankings are fused as LanceDB's RRFReranker fuses them (see ``fuse``).
        """
        table = self.table()
        if table is None or table.count_rows() == 0 or not len(texts):
            return [[] for _ in texts]
        vectors = np.asarray(vectors, np.float32)
        return [hits for start in range(0, len(texts), block)
                for hits in self._search_block(table, texts[start:start + block], vectors[start:start + block], k, floor, mode)]

    def _search_block(self, table, texts: Sequence[str], vectors: np.ndarray, k: int, floor: float, mode: str) -> list[list[Hit]]:
        by_vector = self._vector_leg(table, vectors, k) if mode in (HYBRID, VECTOR) else [[] for _ in texts]
        by_text = asyncio.run(self._text_leg(texts, k)) if mode in (HYBRID, FULL_TEXT) else [[] for _ in texts]
        ranked = [fuse(v, t, k) if mode == HYBRID else (v or t) for v, t in zip(by_vector, by_text)]
        rows = self._rows_by_id(table, {row_id for ranking in ranked for row_id, _ in ranking})
        found = []
        for vector, ranking in zip(vectors, ranked):
            hits: list[Hit] = []
            for row_id, score in ranking:
                row = rows[row_id]
                similarity = float(np.dot(vector, row["vector"]))
                if similarity >= floor:
                    hits.append(Hit(row["chunk_id"], row["article_id"], row["title"], row["article_version"], row["text"],
                                    row["label"], len(hits) + 1, similarity if mode == VECTOR else score, similarity))
            found.append(hits)
        return found

    @staticmethod
    def _vector_leg(table, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Per ticket, the ``k`` nearest passages as (row id, cosine distance), nearest first."""
        result = (table.search(list(vectors), query_type="vector").distance_type("cosine").with_row_id(True)
                  .select(["_rowid", "_distance"]).limit(k).to_arrow())
        ranked: list[list[tuple[int, float]]] = [[] for _ in range(len(vectors))]
        # LanceDB leaves query_index out when it was given a single vector.
        queries = result["query_index"].to_numpy() if "query_index" in result.column_names else np.zeros(result.num_rows, np.int64)
        for query, row_id, distance in zip(queries, *(result[c].to_numpy() for c in ("_rowid", "_distance"))):
            ranked[int(query)].append((int(row_id), float(distance)))
        for ranking in ranked:
            ranking.sort(key=lambda hit: hit[1])
        return ranked

    async def _text_leg(self, texts: Sequence[str], k: int, in_flight: int = 64) -> list[list[tuple[int, float]]]:
        """Per ticket, the ``k`` best BM25 passages as (row id, score), best first; empty text finds nothing."""
        table = await (await lancedb.connect_async(self.db.uri, storage_options=self.db.storage_options)).open_table(TABLE)
        gate = asyncio.Semaphore(in_flight)

        async def one(text: str) -> list[tuple[int, float]]:
            if not text.strip():
                return []
            async with gate:
                result = await table.query().nearest_to_text(text).with_row_id().select(["_rowid", "_score"]).limit(k).to_arrow()
            return sorted(zip(result["_rowid"].to_pylist(), result["_score"].to_pylist()), key=lambda hit: -hit[1])

        return list(await asyncio.gather(*(one(text) for text in texts)))

    @staticmethod
    def _rows_by_id(table, row_ids: set[int]) -> dict[int, dict]:
        """The passages hit, by LanceDB row id, each read once however many tickets hit it."""
        if not row_ids:
            return {}
        rows = table.take_row_ids(sorted(row_ids)).with_row_id().select([*COLUMNS, "vector", "_rowid"]).to_list()
        return {r["_rowid"]: {**r, "vector": np.asarray(r["vector"], np.float32)} for r in rows}


def fuse(by_vector: list[tuple[int, float]], by_text: list[tuple[int, float]], k: int, constant: int = 60) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of two rankings into the top ``k`` (row id, relevance), as LanceDB's RRFReranker computes it:
    each list adds 1 / (rank + 60), ranks from 1; ties keep the vector leg's order, then the text leg's."""
    score: dict[int, float] = {}
    for ranking in (by_vector, by_text):
        for rank, (row_id, _) in enumerate(ranking, 1):
            score[row_id] = score.get(row_id, 0.0) + 1 / (rank + constant)
    return sorted(score.items(), key=lambda item: -item[1])[:k]
