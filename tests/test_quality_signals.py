"""Every cheap answer's free signals, the judged sample's design, and the per-route estimate the daily row carries."""

from datetime import date, timedelta

import numpy as np

from nightshift.lib.stats import wilson
from nightshift.quality.agreement import estimate_columns
from nightshift.quality.sampling import inclusion
from nightshift.quality.signals import score


def test_a_probe_is_always_judged_and_the_rest_share_what_is_left():
    rows = [{"sampled": True, "probe": True}, {"sampled": True, "probe": False}, {"sampled": False, "probe": False},
            {"sampled": False, "probe": None}, {"sampled": False}]
    assert inclusion(rows) == [1.0, 0.25, 0.25, 0.25, 0.25]


def test_the_caches_judges_go_first_to_the_entries_least_judged_and_never_reach_the_rest():
    rows = [{"sampled": True, "cache_judged": 0}, {"sampled": True, "cache_judged": 1}, {"sampled": False, "cache_judged": 1},
            {"sampled": False, "cache_judged": 5}]
    assert inclusion(rows) == [1.0, 0.5, 0.5, 0.0]


def test_a_failed_signal_lowers_the_score():
    clean = {"route": "small_model", "confidence": 0.9, "category": "refund", "predicted": "refund"}
    assert score(clean) == 0.9
    assert score({**clean, "category": "shipping"}) < 0.3
    assert score({**clean, "relevance": 0.1, "floor": 0.4}) < 0.2 and score({**clean, "relevance": 0.5, "floor": 0.4}) == 0.9
    assert score({"route": "cache", "cache_similarity": 0.95, "confidence": 0.1}) == 0.95  # the cache's own signal


def night(rng: np.random.Generator, day: date, n: int, judged: int, wrong_share: float, telling: bool) -> list[dict]:
    """A route-day of small-model answers; with ``telling`` a wrong answer mostly shows it (another category)."""
    rows = []
    picked = set(rng.choice(n, judged, replace=False).tolist())
    for i in range(n):
        wrong = rng.random() < wrong_share
        shows = wrong and telling and rng.random() < 0.8
        rows.append({"ticket_id": f"T{day}-{i}", "day": day, "route": "small_model", "confidence": float(rng.uniform(0.8, 1.0)),
                     "cache_similarity": None, "predicted": "refund", "category": "shipping" if shows else "refund", "probe": None,
                     "sampled": i in picked,
                     "agrees": (not wrong) if i in picked else None})
    return rows


def week(wrong_share: float, telling: bool, seed: int = 7) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [r for d in range(7) for r in night(rng, date(2026, 11, 1) + timedelta(days=d), 300, 12, wrong_share, telling)]


def test_signals_that_see_wrong_answers_narrow_the_weeks_interval_and_it_still_holds_the_truth():
    answers = week(0.30, telling=True)
    found = estimate_columns(answers)
    judged = [a for a in answers if a["agrees"] is not None]
    classical = wilson(sum(a["agrees"] for a in judged), len(judged))
    truth = 0.70
    assert found["estimator_7d_small_model"] == "ppi++"
    assert found["estimate_7d_small_model_low"] <= truth <= found["estimate_7d_small_model_high"]
    width = found["estimate_7d_small_model_high"] - found["estimate_7d_small_model_low"]
    assert width < 0.9 * (classical.high - classical.low)  # 0.147 against 0.170 on this seed
    assert found["effective_n_7d_small_model"] > len(judged)
    assert found["estimate_7d_cache"] is None and found["estimator_7d_cache"] is None  # the cache answered nothing


def test_signals_blind_to_the_fault_fall_back_and_say_so():
    """Written before the estimator's fallback was read: wrong replies under the right category (the fault the old judge
    missed) leave every signal clean, so they say nothing; the estimate must not claim a narrow interval from them."""
    answers = week(0.30, telling=False)
    found = estimate_columns(answers)
    judged = [a for a in answers if a["agrees"] is not None]
    classical = wilson(sum(a["agrees"] for a in judged), len(judged))
    assert found["estimate_7d_small_model_low"] <= 0.70 <= found["estimate_7d_small_model_high"]
    width = found["estimate_7d_small_model_high"] - found["estimate_7d_small_model_low"]
    assert width >= 0.9 * (classical.high - classical.low)
