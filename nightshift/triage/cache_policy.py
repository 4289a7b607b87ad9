"""How similar is similar enough to serve a cached answer: measured, not guessed.

A cache hit is only a saving if the cached ticket asked the same thing. Given, for a set of query
tickets, the similarity of the nearest cached ticket and whether that ticket had the same intent,
`threshold_table` gives hit rate and false-hit rate (wrong-intent hits over all hits) per
threshold, and `choose_threshold` picks the lowest threshold whose false-hit rate stays under the
limit there and at every higher threshold, so that small samples cannot pick a lucky dip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Below 0.80 MiniLM neighbours share a topic rather than a question; no data should talk us lower.
GRID = tuple(round(t, 2) for t in np.arange(0.80, 1.0, 0.01))
DISABLED = 1.01  # above any cosine similarity: no hits at all


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    hit_rate: float
    false_hit_rate: float
    hits: int
    false_hits: int


def nearest(queries: np.ndarray, keys: np.ndarray, exclude_self: bool = False, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Index and cosine similarity of each query's nearest key (vectors are unit length)."""
    index = np.zeros(len(queries), dtype=np.int64)
    sim = np.full(len(queries), -1.0, dtype=np.float32)
    if not len(keys):
        return index, sim
    for start in range(0, len(queries), chunk):
        block = queries[start:start + chunk] @ keys.T
        if exclude_self:
            rows = np.arange(block.shape[0])
            block[rows, rows + start] = -np.inf
        index[start:start + chunk] = block.argmax(axis=1)
        sim[start:start + chunk] = block.max(axis=1)
    return index, sim


def threshold_table(similarity: np.ndarray, same_intent: np.ndarray, grid: Sequence[float] = GRID) -> list[ThresholdRow]:
    rows = []
    n = max(len(similarity), 1)
    for t in grid:
        hit = similarity >= t
        hits, false_hits = int(hit.sum()), int((hit & ~same_intent).sum())
        rows.append(ThresholdRow(float(t), hits / n, false_hits / hits if hits else 0.0, hits, false_hits))
    return rows


def choose_threshold(rows: list[ThresholdRow], max_false_hit_rate: float = 0.01) -> ThresholdRow:
    chosen = ThresholdRow(DISABLED, 0.0, 0.0, 0, 0)
    for row in sorted(rows, key=lambda r: -r.threshold):
        if row.false_hit_rate > max_false_hit_rate:
            break
        if row.hits:
            chosen = row
    return chosen


def calibrate(vectors: np.ndarray, labels: Sequence[str], max_false_hit_rate: float = 0.01) -> tuple[ThresholdRow, list[ThresholdRow]]:
    """Leave-one-out over labelled tickets: each one queries a cache holding all the others."""
    named = np.asarray(labels)
    index, sim = nearest(vectors, vectors, exclude_self=True)
    rows = threshold_table(sim, named[index] == named)
    return choose_threshold(rows, max_false_hit_rate), rows
