"""The routing rules, one by one."""

from nightshift.triage.routing import (
    CACHE,
    FRONTIER,
    HUMAN,
    REALTIME,
    SMALL,
    Decision,
    RoutingConfig,
    Signals,
    cap_realtime,
    question_count,
    route,
)

BASE = dict(questions=1, category="cancel_order", confidence=0.9,
            priority="normal", tokens=12, nearest_known=0.8)


def decide(**changes):
    return route(Signals(**{**BASE, **changes}))


def test_confident_short_single_question_goes_to_the_small_model():
    decision = decide()
    assert decision.route == SMALL and "confident 0.90 cancel_order" in decision.reason


def test_cache_hit_at_or_above_threshold_with_same_category():
    assert decide(cache_similarity=0.95, cache_category="cancel_order").route == CACHE
    assert decide(cache_similarity=0.93, cache_category="cancel_order").route == CACHE  # the threshold itself hits
    assert decide(cache_similarity=0.929, cache_category="cancel_order").route == SMALL


def test_cache_entry_for_another_category_never_hits():
    assert decide(cache_similarity=0.99, cache_category="place_order").route == SMALL


def test_out_of_distribution_goes_to_frontier_never_to_the_cache():
    decision = decide(nearest_known=0.2, cache_similarity=0.99, cache_category="cancel_order")
    assert decision.route == FRONTIER and decision.reason.startswith("out of distribution")


def test_no_valid_cache_entry_means_no_hit():
    # A stale prompt version, another model or an expired entry is filtered out by the cache lookup,
    # which then reports no match at all; the router must not invent one.
    assert decide(cache_similarity=None, cache_category=None).route == SMALL


def test_urgent_priority_or_category_is_answered_now_but_urgent_wording_is_not():
    assert decide(priority="urgent").route == REALTIME
    assert decide(priority="Blocker").route == REALTIME
    assert decide(category="fraud").route == REALTIME
    # Anyone can type "urgent": the text is not among the signals at all (see the safety pre-filter for what it says).
    assert "text" not in Signals.__dataclass_fields__


def test_a_safety_flag_goes_to_a_person_before_any_other_rule():
    decision = decide(safety='injection ("SYSTEM:")', priority="urgent", cache_similarity=0.99, cache_category="cancel_order")
    assert decision == Decision(HUMAN, 'safety pre-filter: injection ("SYSTEM:")')


def test_the_realtime_share_is_capped_and_the_overflow_waits_for_the_batch():
    realtime, small = Decision(REALTIME, "category outage is answered at once"), Decision(SMALL, "confident")
    decisions = [realtime] * 6 + [small] * 34                  # 40 tickets, a cap of 5% is 2
    given = [False, False, False, False, True, False] + [False] * 34
    capped = cap_realtime(decisions, given, 0.05)
    kept = [i for i, d in enumerate(capped) if d.route == REALTIME]
    assert kept == [0, 4]                                      # a priority of its own goes first, then the earliest
    moved = [d for d in capped if d.route == FRONTIER]
    assert len(moved) == 4 and moved[0].reason.endswith("realtime cap reached (2 of 40 tickets): in tonight's frontier batch")
    assert cap_realtime([realtime], [False], 0.05) == [realtime]  # a small day still gets one


def test_reasons_print_enough_digits_to_be_true():
    assert decide(nearest_known=0.4496).reason == "out of distribution: nearest known ticket 0.4496 < 0.4500"
    assert decide(confidence=0.5999).reason == "low confidence 0.5999 < 0.6000 for cancel_order"


def test_urgency_beats_the_cache_and_distribution():
    assert decide(priority="urgent", nearest_known=0.1, cache_similarity=0.99, cache_category="cancel_order").route == REALTIME


def test_complexity_and_low_confidence_go_to_frontier():
    assert decide(questions=2).reason == "2 questions in one ticket"
    assert decide(tokens=900).reason == "long ticket: 900 tokens > 400"
    assert decide(confidence=0.4).reason == "low confidence 0.40 < 0.60 for cancel_order"
    assert {decide(questions=2).route, decide(tokens=900).route, decide(confidence=0.4).route} == {FRONTIER}


def test_rules_are_configurable():
    strict = RoutingConfig(min_confidence=0.95, cache_threshold=0.99, realtime_priorities=frozenset())
    assert route(Signals(**BASE), strict).route == FRONTIER
    assert route(Signals(**{**BASE, "priority": "urgent"}), strict).reason.startswith("low confidence")


def test_question_count():
    assert question_count("How do I cancel?") == 1
    assert question_count("How do I cancel? And where is my refund?") == 2
    assert question_count("Cancel order 5. Also, reset my password.") == 2
    assert question_count("I want a refund") == 1
    assert question_count("Why?! 42? ?? Really?? Done!?") == 2  # a mark run counts once, from a sentence with a word


def test_question_count_is_linear_in_a_long_sentence_without_a_question_mark():
    # The old single pattern backtracked cubically here: this ticket-sized sentence took hours.
    sentence = "my order and the delivery and the refund " * 500
    assert question_count(sentence + ".") == 1 and question_count(sentence + "?") == 1


def test_a_multi_question_ticket_is_not_served_one_cached_answer():
    assert decide(questions=2, cache_similarity=0.99, cache_category="cancel_order").route == FRONTIER
