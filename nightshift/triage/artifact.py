"""The triage model as one versioned artifact: classifiers, what it has seen, its cache threshold.

Its version is a fingerprint of the training data, so the same history always gives the same
version and an unchanged history is not retrained.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import joblib
import numpy as np

from nightshift.triage.cache_policy import DISABLED, calibrate
from nightshift.triage.classifier import Prediction, TextClassifier, ZeroShotClassifier, evaluate, split

CODE_VERSION = "triage-2"  # bump when features or training change, so old artifacts are not reused
MIN_LABELLED = 30          # fewer labelled tickets than this: zero-shot instead
EmbedFn = Callable[[Sequence[str]], np.ndarray]


@dataclass
class TriageModel:
    version: str
    mode: str  # "supervised" or "zero_shot"
    category: TextClassifier | ZeroShotClassifier
    priority: TextClassifier | None
    known_ids: list[str]       # what it has seen, for the out-of-distribution signal
    known_vectors: np.ndarray
    cache_threshold: float
    metrics: dict = field(default_factory=dict)
    labels: set[str] = field(default_factory=set)  # the labels of its training window (none when zero-shot)

    def predict(self, texts: Sequence[str], vectors: np.ndarray) -> tuple[Prediction, Prediction | None]:
        return self.category.predict(texts, vectors), self.priority.predict(texts, vectors) if self.priority else None

    def nearest_known(self, vectors: np.ndarray, ids: Sequence[str], block: int = 2048) -> np.ndarray:
        """Similarity of each ticket to the nearest other ticket the model has seen (itself excluded)."""
        out = np.zeros(len(ids), dtype=np.float32)
        if not len(self.known_ids) or not len(ids):
            return out
        known = self.known_vectors.astype(np.float32)
        position = {tid: i for i, tid in enumerate(self.known_ids)}
        vectors = np.asarray(vectors, dtype=np.float32)
        # In blocks: the whole day against the whole window at once would be tickets x window floats (1.7 GB at 100,000).
        for start in range(0, len(ids), block):
            sims = vectors[start:start + block] @ known.T
            for row, tid in enumerate(ids[start:start + block]):
                if tid in position:
                    sims[row, position[tid]] = -np.inf
            out[start:start + block] = np.maximum(sims.max(axis=1), -1.0)  # a ticket that is all the model has seen: nothing near
        return out


def fingerprint(ids: Sequence[str], hashes: Sequence[str], labels: Sequence[str | None], priorities: Sequence[str | None]) -> str:
    digest = hashlib.sha256(CODE_VERSION.encode())
    for row in sorted(zip(ids, hashes, labels, priorities), key=lambda r: r[0]):
        digest.update(json.dumps(row).encode())
    return digest.hexdigest()[:16]


def zero_shot_categories() -> dict[str, str]:
    raw = json.loads(resources.files("nightshift.data").joinpath("categories.json").read_text())
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def train(
    ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray, labels: Sequence[str | None], priorities: Sequence[str | None],
    version: str, embed: EmbedFn, max_false_hit_rate: float = 0.01,
) -> TriageModel:
    """Evaluate on a stratified 80/20 split, then fit on everything labelled."""
    vectors = np.asarray(vectors, dtype=np.float32)
    labelled = np.array([bool(label) for label in labels])
    if labelled.sum() < MIN_LABELLED:
        descriptions = zero_shot_categories()
        matrix = embed([f"{name}: {text}" for name, text in descriptions.items()])
        zero_shot = ZeroShotClassifier(dict(zip(descriptions, matrix)))
        return TriageModel(version, "zero_shot", zero_shot, None, list(ids), vectors, cache_threshold=DISABLED,
                           metrics={"labelled": int(labelled.sum()), "mode": "zero_shot"}, labels={str(x) for x in labels if x})

    texts_l = [t for t, keep in zip(texts, labelled) if keep]
    labels_l = [str(lab) for lab, keep in zip(labels, labelled) if keep]
    vectors_l = vectors[labelled]
    train_idx, test_idx = split(len(labels_l), labels_l)
    pick = lambda seq, idx: [seq[i] for i in idx]  # noqa: E731
    held_out = TextClassifier().fit(pick(texts_l, train_idx), vectors_l[train_idx], pick(labels_l, train_idx))
    ev = evaluate(held_out.predict(pick(texts_l, test_idx), vectors_l[test_idx]), pick(labels_l, test_idx))
    category = TextClassifier().fit(texts_l, vectors_l, labels_l)

    priority = None
    with_priority = [i for i, p in enumerate(priorities) if p]
    if len({priorities[i] for i in with_priority}) > 1 and len(with_priority) >= MIN_LABELLED:
        priority = TextClassifier().fit(pick(texts, with_priority), vectors[with_priority], pick(priorities, with_priority))

    chosen, _ = calibrate(vectors_l, labels_l, max_false_hit_rate)
    metrics = {
        "mode": "supervised", "labelled": len(labels_l), "classes": len(set(labels_l)),
        "accuracy": ev.accuracy, "macro_f1": ev.macro_f1, "calibration_error": ev.calibration_error,
        "test_size": ev.n, "coverage_at_0.6": ev.coverage_at[0.6], "accuracy_at_0.6": ev.accuracy_at[0.6],
        "cache_threshold": chosen.threshold, "cache_hit_rate": chosen.hit_rate,
        "cache_false_hit_rate": chosen.false_hit_rate, "priority_model": priority is not None,
    }
    return TriageModel(version, "supervised", category, priority, list(ids), vectors, chosen.threshold, metrics, set(labels_l))


class ModelStore:
    """Artifacts in a directory: ``triage-<version>.joblib``, and ``day-<YYYY-MM-DD>.json`` naming the
    version trained for that day, so a backfilled day is triaged by the model of its own history."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, version: str) -> Path:
        return self.root / f"triage-{version}.joblib"

    def has(self, version: str) -> bool:
        return self.path(version).exists()

    def save(self, model: TriageModel) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        model.known_vectors = model.known_vectors.astype(np.float16)  # half the size; plenty for a similarity floor
        joblib.dump(model, self.path(model.version))

    def load(self, version: str) -> TriageModel:
        return joblib.load(self.path(version))

    def assign(self, day: str, version: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / f"day-{day}.json").write_text(json.dumps({"version": version}))

    def for_day(self, day: str) -> TriageModel | None:
        pointer = self.root / f"day-{day}.json"
        return self.load(json.loads(pointer.read_text())["version"]) if pointer.exists() else None

    def prune(self, keep_from: str) -> tuple[int, int]:
        """Forget the days before ``keep_from`` (ISO dates compare as text) and delete the artifacts no kept day uses.
        A forgotten day's triage asks for its triage_model to be materialized again. Returns (files, bytes) removed."""
        pointers = {p.stem.removeprefix("day-"): p for p in self.root.glob("day-*.json")}
        kept = {json.loads(p.read_text())["version"] for day, p in pointers.items() if day >= keep_from}
        doomed = [p for day, p in pointers.items() if day < keep_from]
        doomed += [p for p in self.root.glob("triage-*.joblib") if p.stem.removeprefix("triage-") not in kept]
        freed = sum(p.stat().st_size for p in doomed)
        for p in doomed:
            p.unlink()
        return len(doomed), freed
