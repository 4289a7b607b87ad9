"""What the free signals say about a cheap answer before anyone judges it: a score in [0, 1] per answer.

Every cheap answer comes with signals that cost nothing: the triage model's confidence (small model) or the cache's
similarity to the entry it serves (cache), whether the answer's category is the one triage predicted, and how close its
reply is to its ticket against the calibrated off-topic floor (measured at admission on the answer as written). The
score is a fixed rule of them, not
fitted to the judge's verdicts: prediction-powered inference (quality/estimate.py) needs a predictor that did not see
the labels it is corrected with, and corrects whatever bias the rule has; a better rule only narrows the interval.
"""

from __future__ import annotations

from nightshift.triage.routing import CACHE

# How much a failed signal lowers the score. Not tuned on verdicts (see above): an answer of another category than the
# ticket's, or a reply under the off-topic floor, is the kind of wrong the judge rejects, so the score falls most of the way.
OTHER_CATEGORY = 0.3
OFF_TOPIC = 0.2


def score(answer: dict) -> float:
    """The signals' score for one cheap answer: route, confidence, cache_similarity, category (the answer's), predicted
    (triage's), relevance and floor; None where not measured."""
    base = answer.get("cache_similarity") if answer["route"] == CACHE else answer.get("confidence")
    value = min(1.0, max(0.0, float(base if base is not None else 0.5)))
    if answer.get("category") and answer.get("predicted") and answer["category"].lower() != answer["predicted"].lower():
        value *= OTHER_CATEGORY
    if answer.get("relevance") is not None and answer.get("floor") is not None and answer["relevance"] < answer["floor"]:
        value *= OFF_TOPIC
    return value
