"""Cases the authors of the shadow sample's design and of the category gate's probes did not write.

Each test asserts what the code's docstrings claim; a failing test is a found defect. Simulations are seeded: a
"night" is one daily report, the estimate over a 7-day window of small-model answers sampled day by day with
shadow_sample and weighed back with inclusion (through estimate_columns, as reports.py does). Its truth is the window's
own share of agreeing answers (the easier of the two targets the estimator claims to cover).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pytest

from nightshift.assets.responses import Judged, cheap_answer
from nightshift.lib.stats import wilson
from nightshift.llm.pricing import load_prices
from nightshift.quality import estimate as est
from nightshift.quality.agreement import estimate_columns
from nightshift.quality.sampling import band, inclusion, shadow_sample
from nightshift.triage.cache_serving import Match, Record, serves
from nightshift.triage.routing import CACHE, FRONTIER, SMALL, RoutingConfig, Signals, decide, route
from nightshift.triage.tightening import QualityBounds, gate, gate_probes, tighten

# The sample-size function was renamed while this file was written (top_up -> nightly_sample, commit 35e5155).
nightly_sample = getattr(est, "nightly_sample", None)
LEVEL = 0.93


# ---------------------------------------------------------------------------------------------------------------------
# A simulated window
# ---------------------------------------------------------------------------------------------------------------------

def window(rng, sizes, conf, wrong_p, count=10, minimum=2, telling=0.0, probes=0, probe_wrong=0.5, judge_fail=0.0,
           cache_judged=None):
    """Small-model answers of len(sizes) days, each day sampled by shadow_sample (count wanted, minimum, maximum count)."""
    answers = []
    for d, n in enumerate(sizes):
        day = date(2026, 1, 1) + timedelta(days=d)
        confidences = conf(rng, n)
        rows = []
        for i in range(n):
            c = None if confidences[i] is None else float(confidences[i])
            judged_serves = cache_judged(rng) if cache_judged else None
            probe = i < probes
            wrong = bool(rng.random() < (probe_wrong if probe else wrong_p(c, judged_serves)))
            shows = wrong and rng.random() < telling  # a wrong answer that gives another category than triage's
            rows.append({"ticket_id": f"{day}-{i}-{rng.integers(10**9)}", "day": day, "route": SMALL, "confidence": c,
                         "cache_similarity": None, "predicted": "a", "category": "b" if shows else "a", "probe": probe,
                         "cache_judged": judged_serves, "wrong": wrong})
        picked = {r["ticket_id"] for r in shadow_sample(rows, 0.0, minimum, count, {SMALL: count})}
        for r in rows:
            r["sampled"] = r["ticket_id"] in picked
            r["agrees"] = (not r["wrong"]) if r["sampled"] and rng.random() >= judge_fail else None
        answers += rows
    return answers


def nights(how_many: int, seed: int, **kw) -> dict:
    rng = np.random.default_rng(seed)
    covered, errors, used = [], [], Counter()
    for _ in range(how_many):
        answers = window(rng, **kw)
        truth = 1 - float(np.mean([a["wrong"] for a in answers]))
        col = estimate_columns(answers)
        covered.append(col[f"estimate_7d_{SMALL}_low"] <= truth <= col[f"estimate_7d_{SMALL}_high"])
        errors.append(col[f"estimate_7d_{SMALL}"] - truth)
        used[col[f"estimator_7d_{SMALL}"]] += 1
    return {"coverage": float(np.mean(covered)), "bias": float(np.mean(errors)), "estimators": dict(used)}


sure = lambda rng, n: rng.uniform(0.95, 1.0, n)  # noqa: E731
mixed = lambda rng, n: np.where(rng.random(n) < 0.2, rng.uniform(0.6, 0.8, n), rng.uniform(0.95, 1.0, n))  # noqa: E731


# ---------------------------------------------------------------------------------------------------------------------
# 1. The shadow sample, its inclusion probabilities and the estimate
# ---------------------------------------------------------------------------------------------------------------------

SCENARIOS = {
    # Confidences exactly on the band edges (and a hair under 0.8), the wrong answers all at exactly 0.95.
    "edges": dict(sizes=[60] * 7, conf=lambda rng, n: rng.choice([0.8, 0.95, 0.7999999], n),
                  wrong_p=lambda c, j: 0.2 if c == 0.95 else 0.02),
    # Confidence missing on 30% (band 0, score 0.5), and those are the bad ones.
    "missing confidence": dict(sizes=[60] * 7, conf=lambda rng, n: [None if rng.random() < 0.3 else x for x in rng.uniform(0.8, 1, n)],
                               wrong_p=lambda c, j: 0.3 if c is None else 0.05, telling=0.5),
    # Wrong answers only in the surest band, the one the sampler draws least from; none in the favoured unsure band.
    "wrong where sampled least": dict(sizes=[60] * 7, conf=mixed, wrong_p=lambda c, j: 0.15 if c >= 0.95 else 0.0),
    # Days with no answers, with 2 and 5, beside days of 300.
    "empty and tiny days": dict(sizes=[0, 300, 0, 5, 0, 150, 2], conf=mixed, wrong_p=lambda c, j: 0.3 if c < 0.8 else 0.05),
    # 5 gate probes a day (chance 1, half of them wrong) mixed with the sample.
    "probes mixed in": dict(sizes=[60] * 7, conf=mixed, wrong_p=lambda c, j: 0.3 if c < 0.8 else 0.05, probes=5, telling=0.5),
    # The judge gave no verdict on 30% of the sampled answers (at random).
    "judge failed on 30%": dict(sizes=[60] * 7, conf=mixed, wrong_p=lambda c, j: 0.3 if c < 0.8 else 0.05, judge_fail=0.3),
    # The night's minimum only: 2 a day.
    "two a day": dict(sizes=[60] * 7, conf=mixed, wrong_p=lambda c, j: 0.3 if c < 0.8 else 0.05, count=2),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_weighed_back_estimate_covers_under_skewed_mixes(name):
    found = nights(200, 11, **SCENARIOS[name])
    assert found["coverage"] >= LEVEL and abs(found["bias"]) < 0.01


def one_band_night(rng, per_day: int, days: int = 7, judged: int = 10, wrong: float = 0.05, telling: float = 0.5):
    """(scores of all, judged indices, labels of all, the window's share): one band, so every answer's chance is alike."""
    n = per_day * days
    confidence = rng.uniform(0.95, 1.0, n)
    is_wrong = rng.random(n) < wrong
    score = np.where(is_wrong & (rng.random(n) < telling), 0.3 * confidence, confidence)  # signals.score's OTHER_CATEGORY
    picked = np.concatenate([d * per_day + rng.choice(per_day, judged, replace=False) for d in range(days)])
    return score, picked, (~is_wrong).astype(int), 1 - float(is_wrong.mean())


@pytest.mark.xfail(strict=True, reason="measured: coverage 0.839 over 1000 nights (PPI++ on most). When no judged answer is a "
                   "wrong one the signal misses (about 1 night in 6), the judged labels say the signal is perfect and PPI++ "
                   "claims a narrow interval; it covers about a quarter of those nights. Left open: a minimum of judged "
                   "answers the signal gets wrong before PPI++ is trusted")
def test_one_band_with_a_signal_that_catches_half_the_wrong_answers_still_covers():
    """The audit's night: the small model sure of everything (0.95-1.0, one band), 5% wrong, half of the wrong answers
    showing another category (the score's OTHER_CATEGORY factor), 300 answers a day, 10 judged a day, 1000 nights. With
    one band the design is uniform, so estimate_columns hands estimate_rate exactly these inputs (checked first)."""
    rng = np.random.default_rng(1)
    answers = window(rng, [60] * 7, sure, lambda c, j: 0.05, telling=0.5)
    judged = [a for a in answers if a["agrees"] is not None]
    direct = est.estimate_rate([0.3 * a["confidence"] if a["category"] == "b" else a["confidence"] for a in answers],
                               [0.3 * a["confidence"] if a["category"] == "b" else a["confidence"] for a in judged],
                               [int(a["agrees"]) for a in judged])
    assert estimate_columns(answers)[f"estimate_7d_{SMALL}_low"] == pytest.approx(direct.low)
    covered, used = [], Counter()
    for _ in range(1000):
        score, picked, labels, truth = one_band_night(rng, 300)
        found = est.estimate_rate(score, score[picked], labels[picked])
        covered.append(found.low <= truth <= found.high)
        used[found.estimator] += 1
    assert np.mean(covered) >= LEVEL


def test_the_small_models_sample_does_not_depend_on_the_nearest_cache_entrys_record():
    """triage writes cache_judged for every ticket with a verified nearest entry, whatever its route: serves() returns a
    Serve for a verified entry at any similarity, so a small-model ticket below the cache threshold carries its nearest
    entry's judged serves. The small model's sample is drawn in confidence bands; that record should not matter."""
    serve = serves([Match("e1", 0.50, "refund")], ["refund"], {"e1": Record("verified", 3, 0)}, threshold=0.93, probes=5)[0]
    assert serve is not None and serve.judged == 3  # what ticket_triage stores as cache_judged
    signals = Signals(questions=1, category="refund", confidence=0.97, priority=None, tokens=10, nearest_known=0.9,
                      cache_similarity=serve.similarity, cache_category=serve.category)
    assert decide(signals, RoutingConfig()).route == SMALL
    rows = [{"ticket_id": f"t{i}", "route": SMALL, "confidence": 0.97, "probe": False, "cache_judged": i % 2 * 3} for i in range(100)]
    picked = {r["ticket_id"] for r in shadow_sample(rows, 0.0, 2, 10, {SMALL: 10})}
    chances = inclusion([{**r, "sampled": r["ticket_id"] in picked} for r in rows])
    assert min(chances) > 0, f"{sum(c == 0 for c in chances)} of 100 small-model answers could never be sampled"


def test_a_window_whose_answers_carry_cache_records_still_covers():
    """Half the small model's answers have a nearest verified entry with 1-3 judged serves (independent of whether the
    answer is right); 20% of answers unsure and 30% wrong, the rest 3%. 200 nights."""
    found = nights(150, 7, sizes=[60] * 7, conf=mixed, wrong_p=lambda c, j: 0.3 if c < 0.8 else 0.03,
                   cache_judged=lambda rng: int(rng.random() < 0.5) * int(rng.integers(1, 4)))
    assert found["coverage"] >= LEVEL and abs(found["bias"]) < 0.01


def kish(weights: list[float]) -> float:
    return sum(weights) ** 2 / sum(w * w for w in weights)


def test_a_surest_band_of_one_answer_is_not_forced_a_draw():
    """The mirror of Bitext's case: merged() joins a small band with the next surer one, but a small band at the top
    stays alone. TILT's claim: the effective size stays above about 0.9 of the count."""
    rows = [{"ticket_id": f"u{i}", "route": SMALL, "confidence": 0.7} for i in range(299)]
    rows += [{"ticket_id": "s0", "route": SMALL, "confidence": 0.99}]
    for count in (2, 5):
        picked = {r["ticket_id"] for r in shadow_sample(rows, 0.0, 0, count, {SMALL: count})}
        chances = inclusion([{**r, "sampled": r["ticket_id"] in picked} for r in rows])
        weights = [1 / c for c, r in zip(chances, rows) if r["ticket_id"] in picked]
        assert len(picked) == count and sum(weights) == pytest.approx(300)  # unbiased: the weights add up
        assert kish(weights) >= 0.9 * count, f"count {count}: effective size {kish(weights):.2f}"


def test_band_edges_missing_confidence_and_counts_above_the_rows_are_weighed_exactly():
    rows = [{"ticket_id": f"t{i}", "route": SMALL, "confidence": c, "probe": i < 2}
            for i, c in enumerate([0.8, 0.95, None, 0.7999999999, 0.9499999999, 1.0, 0.0, 0.8] * 25)]
    assert [band(r) for r in rows[:8]] == [1, 2, 0, 0, 1, 2, 0, 1]
    for count in (1, 3, 7, 40, 198, 10**9):  # 198 others; 10**9: a 'wanted' far above the rows, no maximum
        start = time.perf_counter()
        picked = {r["ticket_id"] for r in shadow_sample(rows, 0.0, 0, None, {SMALL: count})}
        assert time.perf_counter() - start < 1.0
        assert {"t0", "t1"} <= picked and len(picked) == 2 + min(count, 198)
        chances = inclusion([{**r, "sampled": r["ticket_id"] in picked} for r in rows])
        assert min(chances) > 0 and chances[:2] == [1.0, 1.0]
        assert sum(1 / c for c, r in zip(chances, rows) if r["ticket_id"] in picked) == pytest.approx(200)


def test_ticket_ids_repeated_across_days_are_weighed_per_day():
    rng = np.random.default_rng(5)
    answers = window(rng, [60, 60, 60], mixed, lambda c, j: 0.3 if c < 0.8 else 0.05, telling=0.5)
    # The same ids on every day, each day keeping its own sample and verdicts.
    reused = [{**a, "ticket_id": f"t{i % 60}"} for i, a in enumerate(answers)]
    assert estimate_columns(reused) == estimate_columns(answers)


def test_a_window_where_the_judge_failed_on_everything_reports_no_rate():
    rng = np.random.default_rng(6)
    answers = [{**a, "agrees": None} for a in window(rng, [50, 50], mixed, lambda c, j: 0.1)]
    col = estimate_columns(answers)
    assert col[f"estimate_7d_{SMALL}"] is None and col[f"estimate_7d_{SMALL}_low"] is None


@pytest.mark.skipif(nightly_sample is None, reason="no nightly_sample in this checkout")
def test_the_nightly_count_is_never_absurd():
    rng = random.Random(3)
    for _ in range(150):
        n = rng.randint(0, 1000)
        window_n = n * 7
        judged = rng.randint(0, 400)
        share = wilson(rng.randint(0, judged), judged)
        corr = rng.choice([0.0, 0.3, 0.9, 1.0, -0.5, 2.0, float("nan")])
        half = rng.choice([0.001, 0.01, 0.05, 0.2])
        count = nightly_sample(share, corr, window_n, half, 0.9, 7)
        # Never negative, never more than tonight's answers (ceil of the window's over its nights), and for the
        # project's +-0.05 never above what a coin-flip route needs uniformly (385 over 7 nights).
        assert 0 <= count <= max(1, math.ceil(window_n / 7)), (share, corr, window_n, half, count)
        if half == 0.05:
            assert count <= 56
    start = time.perf_counter()
    assert nightly_sample(wilson(0, 0), 0.0, 3 * 10**5, 0.05, 0.9, 7) <= 56  # a route of ~43,000 answers a night
    assert time.perf_counter() - start < 1.0


# ---------------------------------------------------------------------------------------------------------------------
# 2. The category gate's probes
# ---------------------------------------------------------------------------------------------------------------------

BOUNDS = QualityBounds()
SURE = dict(questions=1, category="delivery", confidence=0.99, priority=None, tokens=10, nearest_known=0.9)


def moved_by(key, s: Signals, config: RoutingConfig) -> bool:
    ungated = replace(config, gated={k: w for k, w in config.gated.items() if k != key})
    return decide(s, ungated).route == key[0] and decide(s, config).route != key[0]


def distractors() -> list[Signals]:
    """Tickets of the gated category that go to the frontier for reasons other than the gate."""
    return [Signals(**{**SURE, "confidence": 0.9}),            # under the tightened minimum below
            Signals(**{**SURE, "confidence": 0.3}),
            Signals(**{**SURE, "questions": 3}),
            Signals(**{**SURE, "tokens": 5000}),
            Signals(**{**SURE, "priority": "urgent"}),
            Signals(**{**SURE, "nearest_known": 0.1}),
            Signals(**{**SURE, "passages": 0}),
            Signals(**{**SURE, "safety": "self_harm"}),
            Signals(**{**SURE, "category": "refund"})]


def check_probes(signals, ids, config, measured, bounds=BOUNDS):
    probes = gate_probes(signals, ids, config, measured, bounds)
    for key in config.gated:
        mine = [i for i, d in probes.items() if d.route == key[0] and signals[i].category == key[1]]
        moved = [i for i, s in enumerate(signals) if moved_by(key, s, config)]
        assert set(mine) <= set(moved)
        assert len(mine) <= min(bounds.max_probes, max(1, int(bounds.probe_share * len(moved))))
    assert all(any(moved_by(k, signals[i], config) and k[0] == d.route for k in config.gated) for i, d in probes.items())
    # Independent of order: the same ids whatever order the tickets come in.
    order = list(range(len(signals)))
    random.Random(1).shuffle(order)
    again = gate_probes([signals[i] for i in order], [ids[i] for i in order], config, measured, bounds)
    assert {ids[order[j]]: d.route for j, d in again.items()} == {ids[i]: d.route for i, d in probes.items()}
    return probes


def test_probes_are_only_tickets_the_gate_moved_not_those_a_tightened_knob_or_another_rule_moved():
    measured = {(SMALL, "delivery"): wilson(8, 12)}
    config = tighten(RoutingConfig(), {SMALL: wilson(21, 30)}, BOUNDS, "7 days")  # min_confidence -> 0.95
    config = gate(config, measured, BOUNDS, "7 days")
    signals = distractors() * 3 + [Signals(**SURE)] * 8
    ids = [f"x{i:03}" for i in range(len(signals))]
    probes = check_probes(signals, ids, config, measured)
    assert len(probes) == 2 and all(signals[i] == Signals(**SURE) for i in probes)


@pytest.mark.parametrize("max_probes, expected", [(10, 1), (1, 1), (0, 0)])
def test_a_category_with_one_ticket(max_probes, expected):
    bounds = replace(BOUNDS, max_probes=max_probes)
    measured = {(SMALL, "delivery"): wilson(2, 6)}
    config = gate(RoutingConfig(), measured, bounds, "")
    probes = check_probes([Signals(**SURE)], ["only"], config, measured, bounds)
    assert len(probes) == expected


def both_gated():
    measured = {(SMALL, "delivery"): wilson(10, 20), (CACHE, "delivery"): wilson(10, 20)}  # each needs 10 to lift
    config = gate(RoutingConfig(cache_threshold=0.93), measured, BOUNDS, "7 days")
    hit = Signals(**{**SURE, "cache_similarity": 0.97, "cache_category": "delivery"})
    signals = [hit] * 40 + distractors()
    return signals, [f"h{i:03}" for i in range(len(signals))], config, measured


def test_cache_and_small_model_gated_for_one_category_each_probe_once_within_their_limits():
    signals, ids, config, measured = both_gated()
    assert set(config.gated) == {(SMALL, "delivery"), (CACHE, "delivery")}
    probes = check_probes(signals, ids, config, measured)
    assert all(route(signals[i], config).route == FRONTIER for i in probes)  # every probe was moved off its route
    assert len(probes) == len(set(probes))


PRICES = load_prices()
SHADOW_OK = {"custom_id": "shadow:t1", "status": "ok", "model": PRICES.frontier, "answer": '{"draft_reply": "frontier reply"}',
             "batch_id": "b1", "attempt": 1}
SMALL_OK = {"custom_id": "t1", "status": "ok", "mode": "batch", "model": "small", "answer": '{"draft_reply": "small reply"}',
            "error": None, "batch_id": "b0"}
SPENT = {"attempts": 1, "input_tokens": 1, "output_tokens": 1, "usd": 0.001, "frontier_sync_usd": 0.01, "rescued": False, "rescue_usd": 0.0}
CACHED = '{"summary": "s", "category": "delivery", "draft_reply": "cached reply", "citations": []}'


def answer(route_, latest, verdicts=None, gate_probe=True, cache_probe=False):
    ticket = {"ticket_id": "t1", "route": route_, "cache_entry_id": "e1", "cache_probe": cache_probe, "gate_probe": gate_probe,
              "text_redacted": "x", "category": "delivery"}
    return cheap_answer(ticket, latest, {"t1": SPENT, "shadow:t1": SPENT}, {"e1": {"entry_id": "e1", "answer": CACHED, "model": "m"}},
                        Judged(verdicts or {}, {}, 3, {}), PRICES, None)[0]


def given_cheap(row: dict, text: str) -> bool:
    return row["status"] == "ok" and text in (row.get("response") or "")


@pytest.mark.parametrize("shadow", [None, {**SHADOW_OK, "status": "submitted"}, {**SHADOW_OK, "status": "failed", "attempt": 3}],
                         ids=["no shadow", "shadow resubmitted", "shadow out of attempts"])
@pytest.mark.parametrize("gate_probe", [True, False], ids=["gate probe", "sampled"])
def test_a_small_answer_judged_wrong_is_never_given_whatever_became_of_its_shadow(shadow, gate_probe):
    """cheap_answer: 'a judged-wrong answer is never given'. A verdict can outlive its shadow: a rerun of the day's
    synthesis that drops the ticket from the sample (or changes its request) supersedes the shadow, not the judge."""
    latest = {"t1": SMALL_OK, **({"shadow:t1": shadow} if shadow else {})}
    row = answer(SMALL, latest, verdicts={"t1": False}, gate_probe=gate_probe)
    assert not given_cheap(row, "small reply"), row


def test_a_small_gate_probe_is_never_given_unjudged_whatever_the_judge_and_shadow_did():
    for shadow in (None, SHADOW_OK, {**SHADOW_OK, "status": "submitted"}, {**SHADOW_OK, "status": "expired", "attempt": 3}):
        for judge in (None, {"status": "submitted", "attempt": 1}, {"status": "failed", "attempt": 3}, {"status": "invalid", "attempt": 1}):
            latest = {"t1": SMALL_OK, **({"shadow:t1": shadow} if shadow else {}), **({"judge:t1": judge} if judge else {})}
            assert not given_cheap(answer(SMALL, latest), "small reply"), (shadow, judge)
            assert given_cheap(answer(SMALL, latest, verdicts={"t1": True}), "small reply")


@pytest.mark.parametrize("judge", [None, {"status": "failed", "attempt": 3}], ids=["verdict to come", "judge out of attempts"])
def test_a_cache_gate_probe_is_judged_before_it_is_given(judge):
    """tightening: 'each night a few of the tickets the gate moved go to it anyway as probes, judged before they are
    given'; sampling: 'the tickets sent to a route gated for their category, every one judged before it is given'.
    A cache gate probe served from a verified entry is no cache_probe (triage sets that from the entry's probation)."""
    signals, ids, config, measured = both_gated()
    probes = gate_probes(signals, ids, config, measured, BOUNDS)
    assert any(d.route == CACHE for d in probes.values())
    latest = {"shadow:t1": SHADOW_OK, **({"judge:t1": judge} if judge else {})}
    row = answer(CACHE, latest, gate_probe=True, cache_probe=False)  # no verdict
    assert not given_cheap(row, "cached reply"), row
