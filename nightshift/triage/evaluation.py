"""Offline evaluation of the triage model and the semantic cache on any labelled CSV.

Both print their findings as they go and end with one JSON line, so scripts and CI can read them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from nightshift.ingest.encoders import Embedder
from nightshift.ingest.files import csv_records
from nightshift.ingest.mapping import MappingError, resolve
from nightshift.ingest.rules import clean
from nightshift.lib.tokens import count_tokens
from nightshift.triage.cache_policy import GRID, calibrate, choose_threshold, nearest, threshold_table
from nightshift.triage.classifier import TextClassifier, evaluate, split
from nightshift.triage.routing import CACHE, RoutingConfig, Signals, question_count, route
from nightshift.triage.window import latest_per_label

Say = Callable[[str], None]
OURS = "nightshift (embeddings + word/char TF-IDF, LR)"


@dataclass
class Labelled:
    texts: list[str]
    labels: list[str]
    references: list[str] | None = None  # a reference reply per row, where the CSV maps one


def read_labelled(path: Path, mapping: dict[str, str]) -> Labelled:
    """Rows with text and label from a CSV, through a column mapping; rows missing either are skipped."""
    columns, records = csv_records(path.read_bytes())
    resolved = resolve(mapping, columns)
    if "label" not in resolved:
        raise MappingError(f"no label column in {path.name}: map one with label=COLUMN")
    texts, labels, references = [], [], []
    for record in records:
        if record.fields is None:
            continue
        parts = [clean(record.fields.get(resolved[f])) for f in ("subject", "text") if f in resolved]
        text, label = "\n\n".join(p for p in parts if p), clean(record.fields.get(resolved["label"]))
        reference = clean(record.fields.get(resolved["reference"])) if "reference" in resolved else None
        if text and label and (reference or "reference" not in resolved):
            texts.append(text)
            labels.append(label)
            references.append(reference or "")
    return Labelled(texts, labels, references if "reference" in resolved else None)


def eval_triage(data: Labelled, embedder: Embedder, say: Say, test: Labelled | None = None, seed: int = 0,
                hold_out_labels: int = 0, per_label: int = 0) -> dict:
    config = RoutingConfig()
    report_unseen = test is not None or hold_out_labels > 0
    if test is None:
        train_idx, test_idx = split(len(data.labels), data.labels, seed=seed)
        labels = sorted(set(data.labels))
        held = set(np.random.default_rng(seed).choice(labels, size=min(hold_out_labels, len(labels) - 2), replace=False))
        kept = [i for i in train_idx if data.labels[i] not in held]
        train = Labelled([data.texts[i] for i in kept], [data.labels[i] for i in kept])
        test = Labelled([data.texts[i] for i in test_idx], [data.labels[i] for i in test_idx])
        say(f"stratified 80/20 split (seed {seed}): {len(train.labels)} train, {len(test.labels)} test"
            + (f"; {len(held)} labels kept out of training: {', '.join(sorted(held))}" if held else ""))
    else:
        train = data
        say(f"train on all {len(train.labels)} rows, test on {len(test.labels)} rows of the second file")
    if per_label:
        # The nightly model's bounded window: at most per_label training rows of each label (the last ones).
        window = latest_per_label(train.labels, per_label)
        train = Labelled([train.texts[i] for i in window], [train.labels[i] for i in window])
        say(f"training window: at most {per_label} rows per label, {len(train.labels)} rows")
    train_v, test_v = embedder.embed(train.texts), embedder.embed(test.texts)
    known = set(train.labels)
    seen = [i for i, label in enumerate(test.labels) if label in known]
    seen_texts, seen_labels = [test.texts[i] for i in seen], [test.labels[i] for i in seen]

    result: dict = {"n_train": len(train.labels), "n_test": len(seen), "classes": len(known), "per_label": per_label or None}
    variants = {
        OURS: TextClassifier(),
        "embeddings only, LR": TextClassifier(words=False, chars=False),
        "baseline: word TF-IDF, LR": TextClassifier(embeddings=False, chars=False),
    }
    models = {}
    for name, model in variants.items():
        models[name] = model.fit(train.texts, train_v, train.labels)
        ev = evaluate(model.predict(seen_texts, test_v[seen]), seen_labels, (config.min_confidence,))
        say(f"{name:48s} accuracy {ev.accuracy:.4f}  macro-F1 {ev.macro_f1:.4f}  calibration error {ev.calibration_error:.3f}")
        if name == OURS:
            result.update(accuracy=round(ev.accuracy, 4), macro_f1=round(ev.macro_f1, 4),
                          calibration_error=round(ev.calibration_error, 4), confidence=config.min_confidence,
                          accuracy_at_confidence=round(ev.accuracy_at[config.min_confidence], 4),
                          coverage_at_confidence=round(ev.coverage_at[config.min_confidence], 4))
        elif name.startswith("baseline"):
            result.update(baseline_accuracy=round(ev.accuracy, 4), baseline_macro_f1=round(ev.macro_f1, 4))
    say(f"at the router's confidence {config.min_confidence}: {result['coverage_at_confidence']:.1%} of tickets kept, "
        f"{result['accuracy_at_confidence']:.4f} accurate")

    unseen = [i for i, label in enumerate(test.labels) if label not in known]
    if report_unseen:
        threshold, _ = calibrate(train_v, train.labels)
        config = RoutingConfig(cache_threshold=threshold.threshold)
        nightshift = models[OURS]
        texts = [test.texts[i] for i in unseen]
        vectors = test_v[unseen]
        prediction = nightshift.predict(texts, vectors)
        index, sim = nearest(vectors, train_v)
        to_cache = sum(
            route(Signals(questions=question_count(t), category=prediction.labels[k],
                          confidence=float(prediction.confidence[k]), priority=None, tokens=count_tokens(t),
                          nearest_known=float(sim[k]), cache_similarity=float(sim[k]),
                          cache_category=train.labels[index[k]]), config).route == CACHE
            for k, t in enumerate(texts)
        )
        say(f"{len(unseen)} test tickets have labels the training data never had; with a cache holding every "
            f"training ticket (threshold {threshold.threshold:.2f}), the router would answer {to_cache} of them from it")
        result.update(unseen_total=len(unseen), unseen_to_cache=int(to_cache), cache_threshold=threshold.threshold)
    return result


def eval_cache(data: Labelled, embedder: Embedder, say: Say, new_cache: Callable[[str], Any], fill_fraction: float = 0.5,
               seed: int = 0, max_false_hit_rate: float = 0.01) -> dict:
    """Fill a real cache (``new_cache(directory)``, the LanceDB answer cache) with part of the rows, query it with the rest,
    tabulate per threshold."""

    vectors = embedder.embed(data.texts)
    order = np.random.default_rng(seed).permutation(len(data.texts))
    cut = int(len(order) * fill_fraction)
    fill, query = order[:cut], order[cut:]
    now = datetime.now()
    with tempfile.TemporaryDirectory() as tmp:
        cache = new_cache(tmp)
        cache.add([{"entry_id": str(i), "vector": vectors[i], "answer": "", "category": data.labels[i],
                    "prompt_version": "eval", "model": "eval", "source_ticket_id": str(i), "created_at": now}
                   for i in fill], dim=vectors.shape[1])
        matches = cache.lookup(vectors[query], "eval", ["eval"], now)
    # The cache holds every filled row, so each query meets a nearest entry.
    found = [(m, q) for m, q in zip(matches, query) if m is not None]
    sim = np.array([m.similarity for m, _ in found])
    same = np.array([m.category == data.labels[q] for m, q in found])
    rows = threshold_table(sim, same, GRID)
    chosen = choose_threshold(rows, max_false_hit_rate)
    say(f"cache filled with {len(fill)} rows, queried with {len(query)}")
    say("threshold  hit rate  false-hit rate  hits  false hits")
    for row in rows:
        mark = "  <- chosen" if row.threshold == chosen.threshold else ""
        say(f"{row.threshold:9.2f}  {row.hit_rate:8.3f}  {row.false_hit_rate:14.4f}  {row.hits:4d}  {row.false_hits:10d}{mark}")
    return {"threshold": chosen.threshold, "hit_rate": round(chosen.hit_rate, 4),
            "false_hit_rate": round(chosen.false_hit_rate, 4), "max_false_hit_rate": max_false_hit_rate,
            "n_fill": len(fill), "n_query": len(query)}
