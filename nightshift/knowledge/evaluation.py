"""Retrieval measured on labelled tickets: a hit is a passage of an article labelled with the ticket's intent.

`macro_slice` holds a few rows per intent apart as a knowledge base of canned replies (their reference replies), so
the tickets evaluated are never the ones whose replies were indexed. The rows kept are, per intent, those whose
ticket text has the smallest SHA-256: a rule anyone can rerun on the same file.
"""

from __future__ import annotations

import csv
import hashlib
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import lancedb
import numpy as np

from nightshift.ingest.encoders import Embedder
from nightshift.knowledge.articles import read_folder
from nightshift.knowledge.chunking import chunk_article
from nightshift.knowledge.index import HYBRID, MODES, KnowledgeIndex
from nightshift.triage.evaluation import Labelled

Say = Callable[[str], None]


def macro_slice(data: Labelled, per_label: int) -> tuple[list[int], list[int]]:
    """Row indices of the macro slice (``per_label`` per intent, smallest text hash first) and of the rest."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(data.labels):
        by_label[label].append(i)
    digest = lambda i: hashlib.sha256(data.texts[i].encode()).hexdigest()  # noqa: E731
    kept = sorted(i for rows in by_label.values() for i in sorted(rows, key=digest)[:per_label])
    chosen = set(kept)
    return kept, [i for i in range(len(data.labels)) if i not in chosen]


def write_slice(data: Labelled, per_label: int, out: Path) -> tuple[Path, Path]:
    """``out/kb/macros.csv`` (id, label, text: the slice's reference replies) and ``out/tickets.csv`` (text, label: the rest)."""
    if data.references is None:
        raise ValueError("the macro slice is made of reference replies: map one with reference=COLUMN")
    kept, rest = macro_slice(data, per_label)
    (out / "kb").mkdir(parents=True, exist_ok=True)
    macros, tickets = out / "kb" / "macros.csv", out / "tickets.csv"
    with macros.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "label", "text"])
        writer.writerows([f"row{i + 1}", data.labels[i], data.references[i]] for i in kept)
    with tickets.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([data.texts[i], data.labels[i]] for i in rest)
    return macros, tickets


def scores(hits: list[list], labels: list[str], k: int) -> dict:
    """recall@k (a relevant passage among the top k), hit@1 and MRR (1 / rank of the first relevant, 0 past k)."""
    first = [next((h.rank for h in found[:k] if h.label == label), None) for found, label in zip(hits, labels)]
    n = len(labels) or 1
    return {f"recall_at_{k}": round(sum(r is not None for r in first) / n, 4), "hit_at_1": round(sum(r == 1 for r in first) / n, 4),
            "mrr": round(sum(1 / r for r in first if r) / n, 4)}


def eval_retrieval(data: Labelled, kb: Path, mapping: dict[str, str], embedder: Embedder, say: Say, k: int = 5) -> dict:
    """Each mode (hybrid, vector only, full text only) over the same index and the same tickets, no floor."""
    articles = read_folder(kb, mapping)
    labelled = {a.label for a in articles if a.label}
    if not labelled:
        raise ValueError(f"no article in {kb} carries a label: label articles (front matter `label:`, or label=COLUMN for macros)")
    chunks = [c for a in articles for c in chunk_article(a)]
    with tempfile.TemporaryDirectory() as scratch:
        index = KnowledgeIndex(lancedb.connect(scratch))
        index.sync(chunks, embedder.embed, len(articles))
        say(f"knowledge base {kb}: {len(articles)} articles, {len(chunks)} passages, {len(labelled)} labels")
        covered = [i for i, label in enumerate(data.labels) if label in labelled]
        texts, labels = [data.texts[i] for i in covered], [data.labels[i] for i in covered]
        say(f"{len(texts)} tickets whose intent has an article ({len(data.labels) - len(texts)} without one left out)")
        vectors = embedder.embed(texts)
        modes = {}
        for mode in MODES:
            started = time.perf_counter()
            found = index.search(texts, np.asarray(vectors), k, mode=mode)
            modes[mode] = {**scores(found, labels, k), "ms_per_query": round(1000 * (time.perf_counter() - started) / max(1, len(texts)), 2)}
            say(f"{mode:>7}: recall@{k} {modes[mode][f'recall_at_{k}']:.4f}  hit@1 {modes[mode]['hit_at_1']:.4f}  "
                f"MRR {modes[mode]['mrr']:.4f}  ({modes[mode]['ms_per_query']} ms per query)")
    best = modes[HYBRID]
    return {"tickets": len(texts), "articles": len(articles), "chunks": len(chunks), "k": k,
            f"recall_at_{k}": best[f"recall_at_{k}"], "mrr": best["mrr"], "hit_at_1": best["hit_at_1"],
            "hybrid_at_least_each_mode": all(best[f"recall_at_{k}"] >= m[f"recall_at_{k}"] for m in modes.values()),
            "modes": modes}
