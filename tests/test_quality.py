"""Measured quality, piece by piece: the interval, the shadow sample, the judge's inputs, the tightening, the wrong answers."""

import json

import pytest

from nightshift.lib.stats import wilson
from nightshift.llm import prompts
from nightshift.llm.engine import OFF_TOPIC_REPLY, WRONG_CATEGORY, Faults, LocalBatchEngine
from nightshift.llm.offline import respond
from nightshift.llm.pricing import load_prices
from nightshift.llm.requests import JUDGE
from nightshift.quality.estimate import nightly_sample
from nightshift.quality.judging import JUDGED, PENDING, UNMEASURED, judge_requests_and_rows
from nightshift.quality.sampling import shadow_sample
from nightshift.triage.routing import CACHE, FRONTIER, SMALL, RoutingConfig, Signals, route
from nightshift.triage.tightening import QualityBounds, gate, gate_probes, probes_needed, tighten

PRICES = load_prices()


@pytest.mark.parametrize("hits, n, low, high", [
    (35, 35, 0.9011, 1.0),     # the least that clears 0.90 at 95%
    (10, 10, 0.7225, 1.0),
    (7, 10, 0.3968, 0.8922),   # textbook values
    (0, 20, 0.0, 0.1611),
])
def test_the_wilson_interval_matches_its_known_values(hits, n, low, high):
    share = wilson(hits, n)
    assert share.low == pytest.approx(low, abs=1e-4) and share.high == pytest.approx(high, abs=1e-4)
    assert share.rate == hits / n


def test_nothing_measured_is_no_rate_and_the_whole_interval():
    share = wilson(0, 0)
    assert share.rate is None and (share.low, share.high) == (0.0, 1.0)


def triaged(route_name: str, n: int) -> list[dict]:
    return [{"ticket_id": f"{route_name}-{i}", "route": route_name, "category": "billing", "text_redacted": f"ticket {i}"} for i in range(n)]


def test_the_shadow_sample_is_a_share_per_cheap_route_never_under_the_minimum_and_the_same_on_a_rerun():
    rows = triaged(SMALL, 200) + triaged(CACHE, 30) + triaged(FRONTIER, 50)
    picked = shadow_sample(rows, 0.05, 5)
    by_route = {r: [p for p in picked if p["route"] == r] for r in (SMALL, CACHE, FRONTIER)}
    assert len(by_route[SMALL]) == 10 and len(by_route[CACHE]) == 5 and not by_route[FRONTIER]
    assert {p["ticket_id"] for p in shadow_sample(list(reversed(rows)), 0.05, 5)} == {p["ticket_id"] for p in picked}
    assert len(shadow_sample(triaged(SMALL, 3), 0.05, 5)) == 3  # all there are
    assert shadow_sample(rows, 0.0, 0) == []
    assert len(shadow_sample(rows, 0.05, 5, maximum=8)) == 8 + 5  # the small model's 10 capped


def answer(category: str, reply: str = "We have refunded the order.") -> str:
    return json.dumps({"summary": "s", "sentiment": "neutral", "category": category, "draft_reply": reply, "needs_human": False})


def test_a_sample_is_judged_once_both_answers_are_in_and_the_verdict_is_read_back():
    shadow = {"ticket_id": "T1", "route": SMALL, "status": "ok", "answer": answer("refund"), "error": None}
    answers = {"T1": {"status": "ok", "model": "gpt-4.1-mini", "response": answer("refund"), "error": None}}
    spent = {"shadow:T1": {"usd": 0.002}}
    requests, rows = judge_requests_and_rows([shadow], answers, {}, spent, {"T1": "Where is my refund?"}, PRICES)
    (request,) = requests
    assert request.custom_id == "judge:T1" and request.kind == JUDGE and request.model == PRICES.frontier
    assert rows[0]["status"] == PENDING and rows[0]["shadow_usd"] == 0.002

    said = respond(request.body)["choices"][0]["message"]["content"]  # the offline judge: same category, agreement
    latest = {"judge:T1": {"request_hash": request.hash, "status": "ok", "answer": said, "model": PRICES.frontier, "error": None}}
    _, rows = judge_requests_and_rows([shadow], answers, latest, {**spent, "judge:T1": {"usd": 0.001}}, {"T1": "Where is my refund?"}, PRICES)
    assert rows[0]["status"] == JUDGED and rows[0]["agrees"] is True and rows[0]["judge_usd"] == 0.001


def test_a_wrong_cheap_answer_is_judged_a_disagreement_and_a_failed_one_is_unmeasured():
    shadow = {"ticket_id": "T1", "route": SMALL, "status": "ok", "answer": answer("refund"), "error": None}
    wrong = {"T1": {"status": "ok", "model": "gpt-4.1-mini", "response": answer(WRONG_CATEGORY, OFF_TOPIC_REPLY), "error": None}}
    (request,), _ = judge_requests_and_rows([shadow], wrong, {}, {}, {}, PRICES)
    verdict = json.loads(respond(request.body)["choices"][0]["message"]["content"])
    assert verdict["same_intent"] is False and "differ" in verdict["reason"]

    failed = {"T1": {"status": "failed", "model": "gpt-4.1-mini", "response": None, "error": "HTTP 500: injected failure"}}
    requests, rows = judge_requests_and_rows([shadow], failed, {}, {}, {}, PRICES)
    assert not requests and rows[0]["status"] == UNMEASURED and "injected failure" in rows[0]["reason"]


BOUNDS = QualityBounds(target=0.90, max_cache_threshold=0.99, max_min_confidence=0.95)


def test_a_route_clearly_under_target_tightens_its_knob_and_says_why():
    config = tighten(RoutingConfig(cache_threshold=0.93), {SMALL: wilson(21, 30), CACHE: wilson(30, 30)}, BOUNDS, "over 7 days")
    assert config.min_confidence == 0.95 and config.cache_threshold == 0.93  # 0.70 is a shortfall of twice the tolerance
    (why,) = config.tightened
    assert why.knob == "min_confidence" and "small_model agreed 21/30" in why.why and "target 0.90" in why.why

    halfway = tighten(RoutingConfig(), {SMALL: wilson(170, 200)}, BOUNDS, "")  # 0.85: half the tolerated error short
    assert halfway.min_confidence == pytest.approx(0.6 + 0.35 * 0.5, abs=1e-3)


def test_too_few_samples_or_a_route_on_target_moves_nothing():
    for measured in ({SMALL: wilson(2, 3)}, {SMALL: wilson(95, 100)}, {}, {CACHE: wilson(0, 0)}):
        assert tighten(RoutingConfig(), measured, BOUNDS, "") == RoutingConfig()


def test_a_ticket_the_tightening_moved_says_so_in_its_reason():
    config = tighten(RoutingConfig(cache_threshold=0.93), {SMALL: wilson(21, 30), CACHE: wilson(10, 30)}, BOUNDS, "over 7 days")
    signals = dict(questions=1, category="delivery", confidence=0.8, priority=None, tokens=10, nearest_known=0.9)
    moved = route(Signals(**signals), config)
    assert moved.route == FRONTIER and moved.reason.startswith("low confidence 0.80 < 0.95") and "min_confidence raised 0.60 -> 0.95" in moved.reason
    unmoved = route(Signals(**{**signals, "confidence": 0.5}), config)  # under the old minimum too: nothing to explain
    assert unmoved.route == FRONTIER and "raised" not in unmoved.reason
    near = route(Signals(**{**signals, "confidence": 0.97, "cache_similarity": 0.95, "cache_category": "delivery"}), config)
    assert near.route == SMALL and "cache_threshold raised 0.93" in near.reason


def test_a_category_measured_under_target_leaves_its_route_even_when_the_knob_moves_nobody():
    """The audit's night: every small-model ticket at confidence >= 0.96, so raising the minimum to 0.95 moved none."""
    measured = {(SMALL, "delivery"): wilson(7, 10), (SMALL, "refund"): wilson(10, 10), (CACHE, "delivery"): wilson(3, 6),
                (FRONTIER, "delivery"): wilson(0, 10)}
    config = gate(RoutingConfig(cache_threshold=0.93), measured, BOUNDS, "over 7 days")
    assert set(config.gated) == {(SMALL, "delivery"), (CACHE, "delivery")}  # refund could be on target; frontier is no cheap route
    sure = dict(questions=1, category="delivery", confidence=0.99, priority=None, tokens=10, nearest_known=0.9)
    moved = route(Signals(**sure), config)
    assert moved.route == FRONTIER and moved.reason == "small_model gated for delivery: agreed 7/10 [0.40, 0.89] over 7 days, target 0.90"
    assert route(Signals(**{**sure, "category": "refund"}), config).route == SMALL
    hit = route(Signals(**{**sure, "cache_similarity": 0.97, "cache_category": "delivery"}), config)
    assert hit.route == FRONTIER and "cache gated for delivery" in hit.reason and "small_model gated for delivery" in hit.reason
    assert gate(RoutingConfig(), {(SMALL, "delivery"): wilson(10, 10)}, BOUNDS, "") == RoutingConfig()  # 10/10 gates nothing


def test_a_gated_category_is_measured_again_by_as_many_probes_as_could_lift_it():
    # 8 of 12 lifts at 13 of 17 (upper bound 0.90); 10 of 20 would need more than a night's most.
    assert probes_needed(wilson(8, 12), 0.90, 10) == 5
    assert wilson(13, 17).high >= 0.90 > wilson(12, 16).high
    assert probes_needed(wilson(10, 20), 0.90, 10) == 10
    measured = {(SMALL, "delivery"): wilson(8, 12), (CACHE, "delivery"): wilson(10, 20)}
    config = gate(RoutingConfig(cache_threshold=0.93), measured, BOUNDS, "over 7 days")
    sure = dict(questions=1, category="delivery", confidence=0.99, priority=None, tokens=10, nearest_known=0.9)
    signals = ([Signals(**sure)] * 20 + [Signals(**{**sure, "confidence": 0.3})] * 2 + [Signals(**{**sure, "category": "refund"})] * 2
               + [Signals(**{**sure, "cache_similarity": 0.97, "cache_category": "delivery"})] * 12)
    ids = [f"t{i:02}" for i in range(len(signals))]
    decisions = [route(s, config) for s in signals]
    probes = gate_probes(signals, ids, config, measured, BOUNDS)
    # Only tickets a gate moved (not the unsure ones, nor another category): to the small model the 5 that could lift its
    # gate (of 29 moved: 20 sure, 9 cache hits the cache's probes left), to the cache a quarter of its 12.
    assert sum(d.route == SMALL for d in probes.values()) == 5 and sum(d.route == CACHE for d in probes.values()) == 3
    assert all(decisions[i].route == FRONTIER and signals[i].confidence > 0.5 and signals[i].category == "delivery" for i in probes)
    assert all("probe of the gate (small_model gated for delivery: agreed 8/12" in d.reason for d in probes.values() if d.route == SMALL)
    assert gate_probes(list(reversed(signals)), list(reversed(ids)), config, measured, BOUNDS).keys() == {
        len(ids) - 1 - i for i in probes}  # chosen by ticket id, not by order


def test_the_wrong_share_fault_rewrites_that_model_s_reply_answers_only(tmp_path):
    engine = LocalBatchEngine(tmp_path, faults=Faults(wrong_share=0.5, wrong_model="gpt-4.1-mini"))
    lines = [{"custom_id": f"t{i}", "method": "POST", "url": "/v1/chat/completions",
              "body": prompts.reply_request(model, f"Ticket {i}: my invoice is wrong.", "billing")}
             for i in range(40) for model in ("gpt-4.1-mini",)]
    lines += [{"custom_id": f"f{i}", "method": "POST", "url": "/v1/chat/completions",
               "body": prompts.reply_request("gpt-4.1", f"Ticket {i}: my invoice is wrong.", "billing")} for i in range(40)]
    content = "".join(json.dumps(line) + "\n" for line in lines).encode()
    batch = engine.create_batch(engine.create_file(content, "in.jsonl", "batch")["id"], "/v1/chat/completions")
    done = engine.work(batch["id"])
    out = [json.loads(line) for line in engine.file_content(done["output_file_id"]).decode().splitlines()]
    category = {r["custom_id"]: json.loads(r["response"]["body"]["choices"][0]["message"]["content"])["category"] for r in out}
    wrong = [cid for cid, c in category.items() if c == WRONG_CATEGORY]
    assert wrong and all(cid.startswith("t") for cid in wrong) and 10 <= len(wrong) <= 30


def test_the_sample_is_sized_by_what_the_window_needs_and_spread_evenly_over_its_nights():
    # Nothing judged yet: sized as if at the target (141 for +-0.05 at 0.90, 21 a night), so the night's maximum applies.
    assert nightly_sample(wilson(0, 0), 0.0, 4000, 0.05, 0.90, 7) == 21
    # Once 10 agree, as a route that agrees in full: 35 of 35 would be within +-0.05, 5 a night, however many are in.
    assert nightly_sample(wilson(10, 10), 0.0, 4000, 0.05, 0.90, 7) == nightly_sample(wilson(35, 35), 0.0, 4000, 0.05, 0.90, 7) == 5
    # A route measured lower needs more, and fewer where the signals correlate with the verdicts (PPI++).
    assert nightly_sample(wilson(27, 30), 0.6, 4000, 0.05, 0.90, 7) < nightly_sample(wilson(27, 30), 0.0, 4000, 0.05, 0.90, 7)
    # A small window: never more than it holds.
    assert nightly_sample(wilson(0, 0), 0.0, 12, 0.01, 0.90, 1) == 12
    rows = [{"ticket_id": f"t{i}", "route": SMALL} for i in range(40)] + [{"ticket_id": f"c{i}", "route": CACHE} for i in range(40)]
    picked = shadow_sample(rows, share=0.0, minimum=2, maximum=10, wanted={SMALL: 6, CACHE: 0})
    assert sum(r["route"] == SMALL for r in picked) == 6 and sum(r["route"] == CACHE for r in picked) == 2
    assert len(shadow_sample(rows, share=0.0, minimum=2, maximum=10, wanted={SMALL: 141})) == 12
