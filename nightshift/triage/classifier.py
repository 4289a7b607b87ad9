"""The small triage model: category (and priority) from ticket text and its embedding.

Features are the sentence embedding next to word and character TF-IDF: the embedding carries
meaning across paraphrases, the n-grams carry the exact words that separate close intents
("card arrival" vs "card delivery estimate"). A multinomial logistic regression on top gives
probabilities whose top value is the confidence the router trusts; `calibration_error` measures
how far that confidence is from the accuracy it promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

EMBEDDING_WEIGHT = 2.0  # the dense block's scale next to the sparse ones


@dataclass
class Prediction:
    labels: list[str]
    confidence: np.ndarray  # probability of the predicted label


class TextClassifier:
    """Embedding + word/char TF-IDF features, logistic regression."""

    def __init__(self, C: float = 10.0, embeddings: bool = True, words: bool = True, chars: bool = True):
        self.embeddings = embeddings
        self.vectorizers = []
        if words:
            self.vectorizers.append(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))
        if chars:
            self.vectorizers.append(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2))
        self.model = LogisticRegression(C=C, max_iter=3000)

    def _features(self, texts: Sequence[str], vectors: np.ndarray | None, fit: bool = False):
        blocks = [csr_matrix(np.asarray(vectors, dtype=np.float32) * EMBEDDING_WEIGHT)] if self.embeddings else []
        for vectorizer in self.vectorizers:
            blocks.append(vectorizer.fit_transform(texts) if fit else vectorizer.transform(texts))
        return hstack(blocks).tocsr()

    def fit(self, texts: Sequence[str], vectors: np.ndarray | None, labels: Sequence[str]) -> TextClassifier:
        self.model.fit(self._features(texts, vectors, fit=True), list(labels))
        return self

    @property
    def classes(self) -> list[str]:
        return list(self.model.classes_)

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None, block: int = 4096) -> Prediction:
        labels: list[str] = []
        confidence = [np.zeros(0)]
        # In blocks: the sparse features of a whole 100,000-ticket day are gigabytes, a block's a few megabytes.
        for start in range(0, len(texts), block):
            stop = start + block
            proba = self.model.predict_proba(self._features(texts[start:stop], None if vectors is None else vectors[start:stop]))
            best = proba.argmax(axis=1)
            labels += [self.model.classes_[i] for i in best]
            confidence.append(proba[np.arange(len(best)), best])
        return Prediction(labels, np.concatenate(confidence))


class ZeroShotClassifier:
    """No labels yet: the nearest category description by cosine similarity.

    Confidence is a softmax over similarities; it is honest about being low, so the router sends
    these tickets to the frontier model until there is labelled history.
    """

    def __init__(self, descriptions: dict[str, np.ndarray], temperature: float = 0.05):
        self.names = list(descriptions)
        self.matrix = np.stack([descriptions[n] for n in self.names])
        self.temperature = temperature

    @property
    def classes(self) -> list[str]:
        return self.names

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None) -> Prediction:
        if vectors is None or not len(vectors):
            return Prediction([], np.zeros(0))
        sims = np.asarray(vectors) @ self.matrix.T
        logits = (sims - sims.max(axis=1, keepdims=True)) / self.temperature
        proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        best = proba.argmax(axis=1)
        return Prediction([self.names[i] for i in best], proba[np.arange(len(best)), best])


@dataclass
class Evaluation:
    accuracy: float
    macro_f1: float
    calibration_error: float
    n: int
    coverage_at: dict[float, float] = field(default_factory=dict)  # confidence threshold -> share kept
    accuracy_at: dict[float, float] = field(default_factory=dict)  # ... and accuracy on that share


def evaluate(prediction: Prediction, truth: Sequence[str], thresholds: Sequence[float] = (0.6,)) -> Evaluation:
    truth = list(truth)
    correct = np.array([p == t for p, t in zip(prediction.labels, truth)], dtype=bool)
    ev = Evaluation(
        accuracy=float(correct.mean()) if len(correct) else 0.0,
        macro_f1=float(f1_score(truth, prediction.labels, average="macro", zero_division=0)) if truth else 0.0,
        calibration_error=calibration_error(prediction.confidence, correct),
        n=len(truth),
    )
    for t in thresholds:
        kept = prediction.confidence >= t
        ev.coverage_at[t] = float(kept.mean()) if len(kept) else 0.0
        ev.accuracy_at[t] = float(correct[kept].mean()) if kept.any() else 0.0
    return ev


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the gap between confidence and accuracy, weighted by bin size."""
    if not len(confidence):
        return 0.0
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            gap += members.mean() * abs(confidence[members].mean() - correct[members].mean())
    return float(gap)


def split(n: int, labels: Sequence[str], test_size: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/test indices; labels seen once go to training (they cannot be stratified)."""
    named = np.asarray(labels)
    values, counts = np.unique(named, return_counts=True)
    rare = np.isin(named, values[counts < 2])
    idx = np.arange(n)
    classes = int((counts >= 2).sum())
    if not classes:
        return idx, idx[:0]
    # At least one test row per class, or stratifying fails: 40 tickets of 11 intents make a test share of 8 rows.
    size = max(int(np.ceil(test_size * (~rare).sum())), classes)
    train, test = train_test_split(idx[~rare], test_size=size, random_state=seed, stratify=named[~rare])
    return np.concatenate([train, idx[rare]]), test
