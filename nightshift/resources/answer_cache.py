"""The semantic cache: earlier good answers in LanceDB, keyed by the embedding of the redacted ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import dagster as dg
import numpy as np
import pyarrow as pa
from pydantic import Field

from nightshift.resources.vector_store import LanceDBStore, sql_string

TABLE = "answer_cache"
# Bitext's agent replies against their own requests: 98% at or above 0.40, and 4% of replies paired with a request of
# another category (python -m bench.relevance_floor; README, "What the cache will and will not serve").
RELEVANCE_FLOOR = 0.4
BLOCK = 10_000  # entries upserted at a time
ENTRIES_AT_ONCE = 50_000  # entries compared with the queries at a time (75 MB of vectors)
QUERIES_AT_ONCE = 1_000  # queries compared at a time (a 200 MB similarity matrix against 50,000 entries)


@dataclass(frozen=True)
class CacheMatch:
    entry_id: str
    similarity: float
    source_ticket_id: str
    category: str
    answer: str
    trust: str


def entry_id(prompt_version: str, model: str, ticket_id: str) -> str:
    """A cache entry is one model's answer to one ticket under one prompt version."""
    return f"{prompt_version}:{model}:{ticket_id}"


class AnswerCache(dg.ConfigurableResource):
    """Lookups only ever see entries of the same prompt version and model, younger than the TTL."""

    vectors: LanceDBStore
    ttl_days: int = Field(default=30, description="Entries older than this never hit.")
    error_bound: float = Field(default=0.02, description="The wrong-serve rate the cache must stay under: a small model whose "
                               "measured wrong rate (upper 95% bound) is within it has its answers verified on admission.")
    probes: int = Field(default=10, description="Serves of probation entries a night, each judged before it is given.")
    admission: Literal["rules", "open"] = Field(default="rules", description="rules: only answers safe to give someone else "
                                                "(see triage.admission). open: every ok answer the judge did not reject, "
                                                "verified at once, as the cache was before the rules; for measuring what "
                                                "the rules cost (nightshift bench cost --against-open-cache), never for customers.")
    relevance_floor: float = Field(default=RELEVANCE_FLOOR, description="Reply-ticket similarity under which a reply is "
                                   "off-topic, until 30 frontier answers of the day calibrate it.")

    def add(self, rows: list[dict], dim: int) -> None:
        """Entries: entry_id, vector, answer, category, prompt_version, model, source_ticket_id, source_day (the day of the
        ticket it answered), created_at, cited_versions (``article_id@version`` of every article the answer cites), and
        trust (verified or probation: see triage.cache_serving); model is the model asked (lookups match it against the
        routes'), written_by what the answer says wrote it."""
        if not rows:
            return
        schema = pa.schema([
            ("entry_id", pa.string()), ("vector", pa.list_(pa.float32(), dim)), ("answer", pa.string()),
            ("category", pa.string()), ("prompt_version", pa.string()), ("model", pa.string()),
            ("source_ticket_id", pa.string()), ("created_at", pa.timestamp("us")), ("cited_versions", pa.list_(pa.string())),
            ("source_day", pa.date32()), ("trust", pa.string()), ("written_by", pa.string()),
        ])
        # Column by column, the vectors as one float32 buffer: a Python float per dimension is 30 bytes, not 4.
        flat = pa.array(np.asarray([r["vector"] for r in rows], dtype=np.float32).reshape(-1))
        columns = {name: [r.get(name) for r in rows] for name in schema.names if name != "vector"}
        table = pa.Table.from_pydict({**columns, "vector": pa.FixedSizeListArray.from_arrays(flat, dim)}, schema=schema)
        db = self.vectors.db()
        existing = self.vectors.table(TABLE)
        if existing is not None and "cited_versions" not in existing.schema.names:
            # A cache written before answers cited anything: its entries answer an older prompt version and never hit.
            db.drop_table(TABLE)
            existing = None
        elif existing is not None:
            # Entries written before they knew their day count as older than any day looked up; those admitted before
            # the admission rules are on probation: nobody checked them.
            missing = {"source_day": "CAST(NULL AS DATE)", "trust": "'probation'", "written_by": "CAST(NULL AS STRING)"}
            missing = {name: value for name, value in missing.items() if name not in existing.schema.names}
            if missing:
                existing.add_columns(missing)
        target = existing if existing is not None else db.create_table(TABLE, schema=schema)
        # Upserted in blocks: LanceDB's merge holds its whole input and the join beside it.
        for start in range(0, table.num_rows, BLOCK):
            target.merge_insert("entry_id").when_matched_update_all().when_not_matched_insert_all().execute(table.slice(start, BLOCK))

    def retire(self, current: dict[str, str]) -> int:
        """Remove entries citing an article version that is no longer current (edited or deleted); returns how many."""
        table = self.vectors.table(TABLE)
        if table is None or "cited_versions" not in table.schema.names:
            return 0
        rows = table.search().where("array_length(cited_versions) > 0").select(["entry_id", "cited_versions"]).limit(None).to_list()
        stale = [r["entry_id"] for r in rows
                 if any(current.get(cited.rpartition("@")[0]) != cited.rpartition("@")[2] for cited in r["cited_versions"])]
        return self.remove(stale)

    def remove(self, entry_ids: list[str]) -> int:
        """Delete these entries (an answer the judge rejected must not be served again); returns how many there were."""
        if not entry_ids:
            return 0
        return self._delete(f"entry_id IN ({', '.join(map(sql_string, sorted(set(entry_ids))))})")

    def expire(self, now: datetime) -> int:
        """Delete entries past the TTL: they never hit again, and every lookup would still scan them. Returns how many."""
        return self._delete(f"created_at < TIMESTAMP '{(now - timedelta(days=self.ttl_days)).strftime('%Y-%m-%d %H:%M:%S')}'")

    def _delete(self, where: str) -> int:
        table = self.vectors.table(TABLE)
        found = table.count_rows(where) if table is not None else 0
        if found:
            table.delete(where)
        return found

    def get(self, entry_ids: list[str]) -> dict[str, dict]:
        """Entries by id (answer, model, category, source ticket, and what wrote it where known), for serving a cache route."""
        table = self.vectors.table(TABLE)
        if table is None or not entry_ids:
            return {}
        where = f"entry_id IN ({', '.join(map(sql_string, sorted(set(entry_ids))))})"
        wrote = ["written_by"] if "written_by" in table.schema.names else []
        rows = table.search().where(where).select(["entry_id", "answer", "model", "category", "source_ticket_id", *wrote]).limit(None).to_list()
        return {r["entry_id"]: r for r in rows}

    def lookup(self, queries: np.ndarray, prompt_version: str, models: list[str], now: datetime,
               before: date | None = None) -> list[CacheMatch | None]:
        """The nearest live entry for each query; with ``before``, only entries answering tickets of earlier days, so a
        rerun of a day never finds that day's own answers and routes as the night did.

        An exact search, as LanceDB's flat search is, but computed here: the live entries are read a block at a time
        and compared with every query in one matrix product on all cores, where LanceDB's flat multi-vector search
        runs one query at a time on one core (83 s of a 10,000-ticket night against a 300,000-entry cache, against
        about 16 s for the product). The vectors are unit length, so the dot product is the cosine similarity.
        """
        table = self.vectors.table(TABLE)
        if table is None:
            return [None] * len(queries)
        oldest = (now - timedelta(days=self.ttl_days)).strftime("%Y-%m-%d %H:%M:%S")
        where = (f"prompt_version = {sql_string(prompt_version)} AND model IN ({', '.join(map(sql_string, models))}) "
                 f"AND created_at >= TIMESTAMP '{oldest}'")
        if before is not None and "source_day" in table.schema.names:
            where += f" AND (source_day IS NULL OR source_day < DATE '{before.isoformat()}')"
        queries = unit(np.asarray(queries, dtype=np.float32))
        if not len(queries):
            return []
        best = np.full(len(queries), -np.inf, np.float32)
        found = np.full(len(queries), None, dtype=object)
        for batch in table.search().where(where).select(["entry_id", "vector"]).limit(None).to_batches(ENTRIES_AT_ONCE):
            if not batch.num_rows:
                continue
            entries = unit(batch.column("vector").flatten().to_numpy(zero_copy_only=False).reshape(batch.num_rows, -1))
            ids = np.asarray(batch.column("entry_id").to_pylist(), dtype=object)
            # Queries a slice at a time: the similarity matrix of a slice is QUERIES_AT_ONCE x ENTRIES_AT_ONCE floats.
            for start in range(0, len(queries), QUERIES_AT_ONCE):
                similarity = queries[start:start + QUERIES_AT_ONCE] @ entries.T
                nearest = similarity.argmax(axis=1)
                top = similarity[np.arange(len(nearest)), nearest]
                closer = top > best[start:start + QUERIES_AT_ONCE]  # the first of equals stays
                best[start:start + QUERIES_AT_ONCE][closer] = top[closer]
                found[start:start + QUERIES_AT_ONCE][closer] = ids[nearest[closer]]
        details = self.details([i for i in found if i is not None])
        # float32 similarity of a vector to itself can come out a hair above 1: keep it in [-1, 1].
        return [CacheMatch(entry, min(1.0, float(sim)), **details[entry]) if entry is not None else None
                for entry, sim in zip(found, best)]

    def details(self, entry_ids: list[str], chunk: int = 5000) -> dict[str, dict]:
        """What a match reports of its entry: source ticket, category, answer, trust."""
        table = self.vectors.table(TABLE)
        trust = ["trust"] if table is not None and "trust" in table.schema.names else []
        unique, out = sorted(set(entry_ids)), {}
        for start in range(0, len(unique), chunk):
            where = f"entry_id IN ({', '.join(map(sql_string, unique[start:start + chunk]))})"
            for row in table.search().where(where).select(["entry_id", "source_ticket_id", "category", "answer", *trust]).limit(None).to_list():
                out[row["entry_id"]] = {"source_ticket_id": row["source_ticket_id"], "category": row["category"],
                                        "answer": row["answer"], "trust": row.get("trust") or "probation"}
        return out


def unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)
