"""The answer-cache lookup against LanceDB's own exact search, on one cache of the size a 30-day-old deployment has.

    python -m bench.cache_lookup                       # 300,000 entries, 10,000 queries (10,000 tickets a night, 30 days)
    python -m bench.cache_lookup --entries 30000 --queries 2000

Both are exact nearest-neighbour searches with the lookup's filter (prompt version, models, age). The baseline is what
the lookup did before: LanceDB's flat multi-vector search, 2,000 queries a call. The vectors are clustered like ticket
embeddings (unit vectors around 2,000 centres), from a fixed seed. It prints both walls, the ratio, and how many
queries found the same entry (ties between equal vectors may pick either). The last line is JSON.
"""

import argparse
import json
import os
import tempfile
import time
from datetime import datetime, timedelta

import numpy as np

from nightshift.resources.answer_cache import TABLE, AnswerCache
from nightshift.resources.vector_store import LanceDBStore

NOW = datetime(2026, 3, 2, 3, 0)
DIM = 384


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2000, DIM))
    entries = unit(centres[rng.integers(0, 2000, args.entries)] + 0.5 * rng.standard_normal((args.entries, DIM)))
    queries = unit(centres[rng.integers(0, 2000, args.queries)] + 0.5 * rng.standard_normal((args.queries, DIM)))
    with tempfile.TemporaryDirectory(prefix="nightshift-bench-lookup-") as tmp:
        cache = AnswerCache(vectors=LanceDBStore(uri=tmp))
        for start in range(0, args.entries, 50_000):
            cache.add([{"entry_id": f"e{i}", "vector": entries[i], "answer": "a", "category": "c", "prompt_version": "p",
                        "model": "m", "source_ticket_id": f"t{i}", "created_at": NOW - timedelta(days=i % 29), "cited_versions": [],
                        "source_day": (NOW - timedelta(days=i % 29 + 1)).date(), "trust": "verified"}
                       for i in range(start, min(start + 50_000, args.entries))], dim=DIM)
        started = time.perf_counter()
        found = cache.lookup(queries, "p", ["m"], NOW, before=NOW.date())
        ours = time.perf_counter() - started
        table, oldest = cache.vectors.table(TABLE), (NOW - timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
        where = f"prompt_version = 'p' AND model IN ('m') AND created_at >= TIMESTAMP '{oldest}' AND source_day < DATE '{NOW.date()}'"
        started, theirs = time.perf_counter(), [None] * len(queries)
        for start in range(0, len(queries), 2000):
            hits = (table.search(list(queries[start:start + 2000])).distance_type("cosine").where(where, prefilter=True)
                    .select(["entry_id"]).limit(1).to_arrow().to_pylist())
            for hit in hits:
                theirs[start + hit.get("query_index", 0)] = hit["entry_id"]
        baseline = time.perf_counter() - started
    same = sum(m is not None and m.entry_id == e for m, e in zip(found, theirs))
    print(f"{args.entries} entries, {args.queries} queries, {os.cpu_count()} cores")
    print("| search | wall s | ratio |\n|---|---|---|")
    print(f"| LanceDB flat multi-vector search (the baseline) | {baseline:.1f} | 1.00 |")
    print(f"| AnswerCache.lookup (blocks of entries, one matrix product) | {ours:.1f} | {ours / baseline:.2f} |")
    print(f"same entry found for {same} of {args.queries} queries")
    print(json.dumps({"entries": args.entries, "queries": args.queries, "cores": os.cpu_count(), "lookup_s": round(ours, 2),
                      "lancedb_flat_s": round(baseline, 2), "ratio": round(ours / baseline, 3), "same": same}))


if __name__ == "__main__":
    main()
