"""The quality check's three answers: meets the target, below it, or undecided (the interval straddles it)."""

from nightshift.checks.quality import BELOW, MEETS, UNDECIDED, still_needed, verdict
from nightshift.lib.stats import wilson


def answer(hits: int, n: int, target: float = 0.9) -> str:
    share = wilson(hits, n)
    return verdict(share.low, share.high, target)


def test_a_few_agreeing_samples_are_undecided_not_a_warning():
    assert answer(10, 10) == UNDECIDED and still_needed(10, 10, 0.9) == 25
    assert answer(35, 35) == MEETS and still_needed(35, 35, 0.9) == 0


def test_a_route_measured_clearly_under_target_is_below():
    """A small model 30% wrong: below once about 20 answers are judged, undecided before."""
    assert answer(7, 10) == BELOW and answer(14, 20) == BELOW
    assert answer(4, 5) == UNDECIDED


def test_agreement_too_low_for_agreeing_answers_to_rescue_soon():
    assert still_needed(50, 100, 0.9) is not None and still_needed(50, 100, 0.9) > 300
