"""The injection classifier every ticket passes: a linear model on character n-grams of the ticket's unmasked views.

Character n-grams carry across languages and survive paraphrase better than a phrase list, and scoring is a sparse
dot product (tens of microseconds a ticket). The weights, the two operating points and the figures they were chosen
on are a file in the package (``nightshift/data/injection_model.npz``), written by ``python -m
nightshift.safety.training``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from io import BytesIO

import numpy as np

from nightshift.safety.normalise import views

# The features the weights were trained on: changing any of these means retraining.
N_FEATURES = 2**18
NGRAMS = (2, 5)


def vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer  # scikit-learn only when a ticket is scored

    return HashingVectorizer(analyzer="char_wb", ngram_range=NGRAMS, n_features=N_FEATURES, alternate_sign=False,
                             lowercase=True, norm="l2")


@dataclass(frozen=True)
class InjectionModel:
    weights: np.ndarray       # one per hashed n-gram
    bias: float
    hold: float               # a score at or above it holds the ticket for a person
    review: float             # at or above it (and under hold) the night's model classifier reads the ticket
    about: dict               # how it was trained and what it measured on held-out data

    def scores(self, texts: list[str]) -> np.ndarray:
        """Per ticket, the highest probability of injection over its views (folded text, decoded payloads)."""
        return self.scores_of_views([views(text) for text in texts])

    def scores_of_views(self, per_view: list[list[str]]) -> np.ndarray:
        flat = [v for vs in per_view for v in vs]
        if not flat:
            return np.zeros(0)
        logits = vectorizer().transform(flat) @ self.weights + self.bias
        probability = 1 / (1 + np.exp(-logits))
        out, i = np.zeros(len(per_view)), 0
        for n, vs in enumerate(per_view):
            out[n] = probability[i:i + len(vs)].max()
            i += len(vs)
        return out


def save(model: InjectionModel) -> bytes:
    buffer = BytesIO()
    nonzero = np.flatnonzero(model.weights)
    np.savez_compressed(buffer, index=nonzero.astype(np.int32), weight=model.weights[nonzero].astype(np.float32),
                        bias=model.bias, hold=model.hold, review=model.review, about=json.dumps(model.about))
    return buffer.getvalue()


@cache
def load() -> InjectionModel:
    with resources.files("nightshift.data").joinpath("injection_model.npz").open("rb") as f:
        data = np.load(BytesIO(f.read()))
        weights = np.zeros(N_FEATURES, np.float32)
        weights[data["index"]] = data["weight"]
        return InjectionModel(weights, float(data["bias"]), float(data["hold"]), float(data["review"]),
                              json.loads(str(data["about"])))
