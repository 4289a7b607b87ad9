"""Embedding throughput: nightshift's length-sorted batches against naive arrival-order batches.

    python -m bench.embeddings --n 10000            # generated sample tickets
    python -m bench.embeddings --csv FILE --column text

Both runs use the same model, session and batch size; only the batching differs. The last line is JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from datetime import date, timedelta

from nightshift.ingest.encoders import MiniLMEmbedder
from nightshift.ingest.redaction import redact
from nightshift.ingest.samples import SampleSpec, day_tickets


def sample_texts(n: int) -> list[str]:
    texts: list[str] = []
    day = date(2026, 1, 1)
    while len(texts) < n:
        texts += [redact(f"{t['subject']}\n\n{t['body']}").text for t in day_tickets(day, SampleSpec(tickets_per_day=500))]
        day += timedelta(days=1)
    return texts[:n]


def csv_texts(path: str, column: str, n: int) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        texts = [row[column] for row in csv.DictReader(fh) if row[column].strip()]
    return (texts * (n // len(texts) + 1))[:n]


def timed(embedder: MiniLMEmbedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed(texts)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="texts to embed per run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--csv", help="take texts from this CSV instead of generated tickets")
    parser.add_argument("--column", default="text", help="text column of --csv")
    args = parser.parse_args()

    texts = csv_texts(args.csv, args.column, args.n) if args.csv else sample_texts(args.n)
    nightshift = MiniLMEmbedder(batch_size=args.batch_size)
    naive = MiniLMEmbedder(batch_size=args.batch_size, sort_by_length=False)
    tokens = [len(e.ids) for e in nightshift.tokenizer.encode_batch(texts[:2000])]
    print(f"{len(texts)} texts, {sum(tokens) / len(tokens):.0f} tokens on average, {os.cpu_count()} cores, batch {args.batch_size}")
    nightshift.embed(texts[:64])  # warm-up: first-call allocation is not throughput
    naive_s = timed(naive, texts)
    ours_s = timed(nightshift, texts)
    rows = [("naive baseline (arrival order)", naive_s), ("nightshift (sorted by length)", ours_s)]
    for name, seconds in rows:
        print(f"{name:34s} {seconds:7.1f} s  {len(texts) / seconds:7.0f} tickets/s")
    print(f"speed-up: {naive_s / ours_s:.2f}x")
    print(json.dumps({
        "n": len(texts), "nightshift_tickets_per_s": round(len(texts) / ours_s, 1),
        "baseline_tickets_per_s": round(len(texts) / naive_s, 1), "nightshift_s": round(ours_s, 2),
        "baseline_s": round(naive_s, 2), "speedup": round(naive_s / ours_s, 2),
    }))


if __name__ == "__main__":
    main()
