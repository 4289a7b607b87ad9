"""The knowledge base in LanceDB (`kb_chunks`): passages with their vectors and a full-text index, searched three ways.

Hybrid search runs a vector search and a BM25 full-text search and fuses the two rankings by reciprocal rank
(LanceDB's RRFReranker); vector-only and full-text-only are kept for the evaluation that compares them. Every hit
also carries its cosine similarity to the ticket, because fused scores only rank: the floor that decides whether a
passage is evidence at all is a similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from lancedb.index import FTS
from lancedb.rerankers import RRFReranker

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

    def search(self, texts: Sequence[str], vectors: np.ndarray, k: int, floor: float = -1.0, mode: str = HYBRID) -> list[list[Hit]]:
        """The top ``k`` passages per ticket whose similarity clears ``floor``, best first."""
        table = self.table()
        if table is None or table.count_rows() == 0:
            return [[] for _ in texts]
        found = []
        for text, vector in zip(texts, np.asarray(vectors, np.float32)):
            # A selection names the search's own score column (LanceDB warns when it is left out); hybrid search takes
            # none, as its two searches would each warn about the other's.
            use = VECTOR if mode == HYBRID and not text.strip() else mode  # full-text search needs words
            if use == HYBRID:
                query = table.search(query_type="hybrid").vector(vector).text(text).rerank(RRFReranker())
                score, own = "_relevance_score", []
            elif use == VECTOR:
                query, score, own = table.search(vector, query_type="vector").distance_type("cosine"), None, ["_distance"]
            else:
                query, score, own = table.search(text, query_type="fts"), "_score", ["_score"]
            rows = (query if use == HYBRID else query.select([*COLUMNS, "vector", *own])).limit(k).to_list()
            hits: list[Hit] = []
            for row in rows:
                similarity = float(np.dot(vector, np.asarray(row["vector"], np.float32)))
                if similarity >= floor:
                    hits.append(Hit(row["chunk_id"], row["article_id"], row["title"], row["article_version"], row["text"],
                                    row["label"], len(hits) + 1, float(row[score]) if score else similarity, similarity))
            found.append(hits)
        return found
