"""A route's agreement rate from a few judged answers and free signals on all of them: PPI++, with Wilson as fallback.

Every cheap answer of a route carries ``predicted``, a probability in [0, 1] that the frontier judge would agree with
it, made from free signals (similarity, triage confidence, category match). A sample of the answers is judged: label
``y`` (1 = the judge agrees), each picked with a known inclusion probability ``pi`` (uniform, or higher where the
signals are weak).

The estimand is the route's agreement rate mu, the chance that an answer of the route is right, of which the window's
N answers are draws. An interval for mu also covers the window's own share (1/N) sum_j y_j: the estimate is unbiased
for that share given the window, so its error about the share is uncorrelated with, and smaller than, its error about mu.

Point estimate. Prediction-powered inference (Angelopoulos, Bates, Fannjiang, Jordan, Zrnic, "Prediction-powered
inference", Science 382, 2023) with power tuning (Angelopoulos, Duchi, Zrnic, "PPI++: Efficient prediction-powered
inference", arXiv:2311.01453, 2023); the judged sample is weighted by 1/pi as in survey sampling's difference estimator
(Saerndal, Swensson, Wretman, "Model Assisted Survey Sampling", 1992, sections 6.3-6.4):

    theta(lam) = lam * (1/N) sum_{j <= N} f_j  +  sum_{i in S} w_i (y_i - lam f_i) / sum_{i in S} w_i,      w_i = 1 / pi_i

The first term is known exactly (the signal is on every answer); the second, a Hajek (ratio) form of the
Horvitz-Thompson mean of the residuals over the judged sample S, removes whatever bias the signal has, so theta is
unbiased (to O(1/n), the Hajek ratio's bias) for every lam and every signal, calibrated or not. lam = 1 is plain PPI,
lam = 0 the classical weighted share.

Variance. About mu, the window's own spread plus the rectifier's sampling error (Poisson sampling, linearised):

    V(lam) = theta (1 - theta) / N  +  D(e),     D(e) = n/(n-1) * sum_{i in S} (1 - pi_i) w_i^2 (e_i - e_w)^2 / (sum_{i in S} w_i)^2

with e_i = y_i - lam f_i and e_w their weighted mean. At lam = 0 and uniform pi = n/N this is p(1-p)/n, the classical
variance; (1 - pi_i) is the finite-population correction, so an answer judged with certainty adds nothing. lam is the
minimiser of D, the weighted least-squares slope of y on f with weights c_i = (1 - pi_i) w_i^2, clipped at 0:

    lam = max(0, sum c_i (y_i - y_w)(f_i - f_w) / sum c_i (f_i - f_w)^2)

Not at 1, as ppi-python clips it: a signal squeezed into a narrow band (a cosine similarity living in [0.85, 1]) needs a
slope well above 1 to be of use, and theta is unbiased for any lam. On simulated nights with the informative signal
squeezed into [0.45, 0.55], the clip at 1 left PPI++ on 10-15% of nights and no narrower than Wilson; without it, on
31-72% and 14-20% narrower, coverage unchanged. The clip at 0 stays: a signal that runs against the labels is broken,
and is better reported (Wilson, lam 0) than silently turned round.

rho^2 = 1 - D(y - lam f) / D(y) is then the share of the classical variance the signal removes.

Interval. A Wald interval theta +- z sqrt(V) fails where wrong answers are rare: a sample with one wrong too many reads
a small variance at a low estimate. Wilson's cure is to take the variance at each candidate t instead, p(1-p) -> t(1-t).
For a residual the same split holds by class: var(e) = t (1 - t) (1 - lam gap)^2 + lam^2 W, with gap the difference of
the mean signal of agreeing and disagreeing answers and W the within-class variance of the signal, so the interval is

    {t in [0, 1]: (theta - t)^2 <= q^2 (a t (1 - t) + b)},    a = 1/N + K (1 - lam gap)^2 + (chi2_95 / n_c) K_y,    b = K lam^2 W

a quadratic in t (Wilson's interval when b = 0, a = 1/n), with K = D(e) / var_w(e) and K_y = D(y) / var_w(y) the design
variance per unit of sample variance, q Student's t quantile with n - 2 degrees of freedom (a mean and a slope are
fitted on the n labels), and n_c = (sum c)^2 / sum c^2 the effective number of answers the slope is fitted on. The
(chi2_95 / n_c) K_y term takes back the variance reduction pure noise shows on one night in twenty, the same bar the
fallback below sets: lam is fitted on the labels it is then judged by, so the reduction they show is optimistic, and
most optimistic on the nights that only just pass the bar. At the bar PPI++'s interval is as wide as the classical one.

Fallback. Wilson on the judged labels (the project's ``wilson`` when the inclusion probabilities are equal; else at the
Hajek share on Korn and Graubard's effective size, below) is used with fewer than MIN_JUDGED_PPI judged, with labels
all alike, when lam is 0 (signals all equal, all judged with certainty, or a signal running against the labels), when
n_c rho^2 < chi2_95 = 3.84 (a 5% test of no correlation: the signal does not lower the variance by more than noise
would), or when the PPI++ estimate leaves (0, 1). ``Estimate.estimator`` says which; ``effective_n`` is
theta (1 - theta) / V, the number of uniformly drawn judged answers whose binomial variance equals the estimator's.

ppi-python's ``ppi_mean_ci`` treats its unlabelled set as independent of the labelled one, with variance
lam^2 var(f)/N + var(e)/n and lam = cov(y, f)/((1 + n/N) var f); here the judged answers are part of the window, so the
design-based form above applies. At the tuned lam and n small next to N the two variances agree.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from nightshift.lib.stats import Z95, Share, wilson

Estimator = Literal["wilson", "ppi++"]

# Under 20 judged answers a slope and a residual variance fitted on the same few labels cannot carry the interval: on
# simulated nights at a 2% wrong rate PPI++ covered the window's own share 90-93% at 5-19 judged and 96-98% from 20 on
# (the rate itself 89-91% against 91-95%); at 10% and 30% any size did. At 20 the correlation bar below admits only
# rho >= 0.44, so waiting costs little.
MIN_JUDGED_PPI = 20
# Under this many judged in the window the rate measured is too loose to size a sample by: size as if at the target.
KNOWN_RATE = 10
# A signal of pure noise still "explains" some of the labels: n_c rho^2 is then about chi-square with one degree of
# freedom, so this bar lets noise through on one night in twenty (fewer under steep weights, where n_c is small).
CORRELATION_CHI2 = float(sps.chi2.ppf(0.95, 1))


@dataclass(frozen=True)
class Estimate:
    """The route's agreement rate with its 95% interval; ``rate`` is None when nothing was judged (then [0, 1]).

    ``effective_n``: how many uniformly drawn judged answers a plain binomial estimate would need for the same variance,
    rate (1 - rate) / V: n_judged for Wilson on uniformly drawn labels, less under unequal weights, more where the
    signal helps (never more than n_total). ``lam``: the weight given to the signal, 0 for Wilson."""

    rate: float | None
    low: float
    high: float
    estimator: Estimator
    n_judged: int
    n_total: int
    effective_n: float
    lam: float = 0.0

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def estimate_rate(predicted_all: ArrayLike, predicted: ArrayLike, y: ArrayLike, inclusion: ArrayLike | None = None, z: float = Z95) -> Estimate:
    """The agreement rate of a route over a window: PPI++ where it is sound, else Wilson on the judged labels.

    ``predicted_all``: the signal model's probability for every answer of the route in the window, judged or not;
    ``predicted``, ``y``: for the judged ones, the same probability and the judge's label (1 = agrees);
    ``inclusion``: each judged answer's probability of having been picked (None: uniform, n/N).

    Wilson (weighted when the inclusion probabilities differ) is used when fewer than MIN_JUDGED_PPI answers are judged;
    when the tuned lam is 0: labels all alike, signals all equal, everything judged with certainty, or a signal that runs
    against the labels; when the signal's variance reduction does not pass n_c rho^2 >= 3.84, the 5% bar of a test of
    no correlation; or when the PPI++ estimate falls outside (0, 1), where its linear correction is extrapolating."""
    f_all, f, labels, pi = _inputs(predicted_all, predicted, y, inclusion)
    n, big_n = len(labels), len(f_all)
    if n < MIN_JUDGED_PPI or not 0 < labels.sum() < n:
        return _classical(labels, pi, big_n, z)
    judged = _Judged(f, labels, pi)
    lam = judged.slope()
    classical_var = judged.design_var(labels)
    if lam <= 0.0 or classical_var <= 0.0:
        return _classical(labels, pi, big_n, z)
    residual_var = judged.design_var(labels - lam * f)
    if judged.fit_n() * (1.0 - residual_var / classical_var) < CORRELATION_CHI2:
        return _classical(labels, pi, big_n, z)
    estimate = _ppi(f_all, judged, lam, tuned=True, z=z)
    return estimate if estimate.rate is not None and 0.0 < estimate.rate < 1.0 else _classical(labels, pi, big_n, z)


def ppi_mean(
    predicted_all: ArrayLike, predicted: ArrayLike, y: ArrayLike, inclusion: ArrayLike | None = None, lam: float | None = None, z: float = Z95
) -> Estimate:
    """PPI++ (``lam`` None: tuned) or PPI with a fixed ``lam`` (1: plain PPI), with no fallback: for comparisons;
    ``estimate_rate`` is the one to report. Needs judged answers of both labels and at least three in all."""
    f_all, f, labels, pi = _inputs(predicted_all, predicted, y, inclusion)
    if len(labels) < 3 or not 0 < labels.sum() < len(labels):
        raise ValueError("PPI needs at least three judged answers, of both labels")
    judged = _Judged(f, labels, pi)
    return _ppi(f_all, judged, judged.slope() if lam is None else float(lam), tuned=lam is None, z=z)


def classical_estimate(y: ArrayLike, inclusion: ArrayLike | None = None, n_total: int | None = None, z: float = Z95) -> Estimate:
    """Wilson on the judged labels alone; weighted by 1/pi, on the effective size, when the inclusion probabilities differ."""
    labels = _labels(y)
    big_n = len(labels) if n_total is None else n_total
    return _classical(labels, _inclusion(inclusion, len(labels), big_n), big_n, z)


def signal_correlation(predicted: ArrayLike, y: ArrayLike, inclusion: ArrayLike | None = None) -> float:
    """rho, the design-weighted correlation of signal and label over judged answers (1 - rho^2 of the classical variance
    is left at the best lam): what ``judged_needed`` takes, measured on recent nights. 0 where it cannot be measured."""
    f, labels = np.asarray(predicted, dtype=float).ravel(), _labels(y)
    if len(f) != len(labels):
        raise ValueError(f"{len(f)} predictions for {len(labels)} judged labels")
    # Any one probability under 1 weighs every answer alike: the plain Pearson correlation.
    judged = _Judged(f, labels, np.full(len(labels), 0.5) if inclusion is None else _inclusion(inclusion, len(labels), len(labels)))
    if judged.n < 2:
        return 0.0
    fc, yc = f - judged.mean(f), labels - judged.mean(labels)
    sff, syy = float(judged.c @ (fc * fc)), float(judged.c @ (yc * yc))
    return float(judged.c @ (fc * yc)) / math.sqrt(sff * syy) if sff > 0 and syy > 0 else 0.0


def judged_needed(half_width: float, rate: float, correlation: float, n_total: int, z: float = Z95) -> int | None:
    """The fewest answers of a route of ``n_total`` to judge, uniformly, for a 95% interval of about +-``half_width``
    when the agreement is near ``rate`` and the signal correlates ``correlation`` with the labels (``signal_correlation``
    over recent nights); None when even judging them all would not do: the window's own spread, rate (1 - rate) / N,
    is a floor. The sample-size counterpart of ppi-python's ``ppi_mean_power``.

    With s2 = rate (1 - rate), the estimator's own rules decide each n: below MIN_JUDGED_PPI, where n rho^2 < 3.84, or
    at a rate of 0 or 1 (labels all alike), it is Wilson, half-width z sqrt(s2 / n + z^2 / 4n^2) / (1 + z^2 / n) (at a
    rate of 1, z^2 / 2(n + z^2): 35 judged for +-0.05); otherwise PPI++, half-width ~ t_{n-2} sqrt(V(n)) with

        V(n) = s2 / N + (1/n - 1/N) s2 (1 - rho^2 + 3.84 / n)

    the design variance of section "Variance" with the optimism charge of section "Interval". A guide, not a promise:
    near rates of 0 or 1 the score intervals are asymmetric and the realised rho varies from night to night."""
    if not (half_width > 0 and 0 <= rate <= 1 and n_total > 0):
        raise ValueError("half_width must be positive, rate in [0, 1] and n_total positive")
    s2, rho2 = rate * (1 - rate), min(max(float(correlation), 0.0), 1.0) ** 2
    n = np.arange(1, n_total + 1, dtype=float)
    classical = z * np.sqrt(s2 / n + z * z / (4 * n * n)) / (1 + z * z / n)
    variance = s2 / n_total + (1 / n - 1 / n_total) * s2 * (1 - rho2 + CORRELATION_CHI2 / n)
    powered = sps.t.ppf(sps.norm.cdf(z), np.maximum(n - 2, 1)) * np.sqrt(variance)
    uses_ppi = (n >= MIN_JUDGED_PPI) & (n * rho2 >= CORRELATION_CHI2) & (rho2 > 0) & (s2 > 0)
    half = np.where(uses_ppi, powered, classical)
    enough = np.flatnonzero(half <= half_width + 1e-12)
    return int(enough[0]) + 1 if len(enough) else None


def nightly_sample(judged: Share, correlation: float, n_window: int, half_width: float, target: float, nights: int) -> int:
    """How many of a route's answers to judge tonight for its window of ``nights`` to reach a 95% interval of about
    +-``half_width``: an even share of the count the window needs, at the rate measured so far (``judged``, the
    window's other days; the target until KNOWN_RATE are judged) and the signals' ``correlation`` with the verdicts;
    ``n_window``, about how many answers the route gives over the window.

    Even, not front-loaded: a night judged more than the others weighs each of its answers less, and unequal weights
    cost effective size (a first week judged 10, 10, 10, 5, 2, 2, 2 on Bitext, each night topping the window up, was
    worth 24 judged answers of its 40: +-0.072 where +-0.05 was asked)."""
    rate = judged.rate if judged.rate is not None and judged.n >= KNOWN_RATE else target
    needed = judged_needed(half_width, rate, correlation, max(n_window, 1))
    return math.ceil((n_window if needed is None else needed) / max(nights, 1))


class _Judged:
    """The judged sample with its design weights w = 1/pi and c = (1 - pi) w^2, worked out once."""

    def __init__(self, f: NDArray, labels: NDArray, pi: NDArray) -> None:
        self.f, self.labels, self.pi, self.n = f, labels, pi, len(labels)
        self.w = 1 / pi
        self.c = (1 - pi) * self.w**2
        self.w_sum = float(self.w.sum())

    def mean(self, x: NDArray) -> float:
        return float(self.w @ x) / self.w_sum

    def var(self, x: NDArray) -> float:
        return float(self.w @ (x - self.mean(x)) ** 2) / self.w_sum

    def design_var(self, x: NDArray) -> float:
        """D(x): the variance of the Hajek mean of ``x`` under Poisson sampling, linearised."""
        if self.n < 2:
            return 0.0
        return self.n / (self.n - 1) * float(self.c @ (x - self.mean(x)) ** 2) / self.w_sum**2

    def slope(self) -> float:
        """lam: the c-weighted least-squares slope of label on signal, the minimiser of D(y - lam f), at least 0; 0 where
        the signal does not vary (a spread under 1e-6 is a constant for this purpose)."""
        fc, yc = self.f - self.mean(self.f), self.labels - self.mean(self.labels)
        total = float(self.c.sum())
        denominator = float(self.c @ (fc * fc))
        return max(float(self.c @ (fc * yc)) / denominator, 0.0) if total > 0 and denominator > 1e-12 * total else 0.0

    def fit_n(self) -> float:
        """n_c = (sum c)^2 / sum c^2, how many answers the slope is in effect fitted on."""
        total = float(self.c.sum())
        return total**2 / float(self.c @ self.c) if total > 0 else 0.0


def _ppi(f_all: NDArray, judged: _Judged, lam: float, tuned: bool, z: float) -> Estimate:
    f, labels, n, big_n = judged.f, judged.labels, judged.n, len(f_all)
    e = labels - lam * f
    theta = lam * float(f_all.mean()) + judged.mean(e)
    clipped = min(max(theta, 0.0), 1.0)
    spread = judged.var(e)
    right, wrong = labels == 1, labels == 0
    by_class = [_Judged(f[mask], labels[mask], judged.pi[mask]) for mask in (right, wrong)]
    gap = by_class[0].mean(by_class[0].f) - by_class[1].mean(by_class[1].f)
    share = by_class[0].w_sum / judged.w_sum
    within = lam**2 * (share * by_class[0].var(by_class[0].f) + (1 - share) * by_class[1].var(by_class[1].f))
    # A signal that predicts every judged label exactly leaves no residual spread: only the window's own spread is left.
    per_unit = judged.design_var(e) / spread if spread > 0 else 0.0
    a = 1 / big_n + per_unit * (1 - lam * gap) ** 2
    if tuned and judged.fit_n() > 0:
        a += CORRELATION_CHI2 / judged.fit_n() * judged.design_var(labels) / (share * (1 - share))
    b = per_unit * within
    low, high = _mixture_score_interval(theta, a, b, _t_quantile(z, n - 2 if tuned else n - 1))
    var = a * clipped * (1 - clipped) + b
    return Estimate(theta, low, high, "ppi++", n, big_n, min(clipped * (1 - clipped) / var, float(big_n)), lam)


def _mixture_score_interval(theta: float, a: float, b: float, q: float) -> tuple[float, float]:
    """{t in [0, 1]: (theta - t)^2 <= q^2 (a t (1 - t) + b)}."""
    q2 = q * q
    qa, qb, qc = 1 + q2 * a, 2 * theta + q2 * a, theta * theta - q2 * b
    root = math.sqrt(max(qb * qb - 4 * qa * qc, 0.0))
    return max(0.0, (qb - root) / (2 * qa)), min(1.0, (qb + root) / (2 * qa))


def _classical(labels: NDArray, pi: NDArray, big_n: int, z: float) -> Estimate:
    n = len(labels)
    if n == 0:
        return Estimate(None, 0.0, 1.0, "wilson", 0, big_n, 0.0)
    if np.all(pi == pi[0]):
        share = wilson(int(labels.sum()), n, z)
        return Estimate(share.rate, share.low, share.high, "wilson", n, big_n, float(n))
    # Korn and Graubard (Survey Methodology 24, 1998): Wilson's interval at the Hajek share on the effective size its
    # design variance implies, never above n, lest a lucky variance estimate claim more than the labels hold; with the
    # labels all alike there is no variance to read, and Kish's (sum w)^2 / sum w^2 stands in. Their degrees-of-freedom
    # shrink (z / t_{n-1})^2 stays: without it, simulated risk-based nights with steep weights covered 92.7-94.8%, with
    # it 94.2-97%.
    judged = _Judged(labels, labels, pi)
    p = judged.mean(labels)
    var = judged.design_var(labels)
    n_eff = min(float(n), p * (1 - p) / var) if 0 < p < 1 and var > 0 else _kish_n(pi)
    low, high = _score_interval(p, n_eff * (z / _t_quantile(z, n - 1)) ** 2, z)
    return Estimate(p, low, high, "wilson", n, big_n, n_eff)


def _kish_n(pi: NDArray) -> float:
    w = 1 / pi
    return float(w.sum() ** 2 / np.sum(w * w))


@functools.lru_cache(maxsize=256)
def _t_quantile(z: float, df: int) -> float:
    return float(sps.t.ppf(sps.norm.cdf(z), max(df, 1)))


def _score_interval(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson's interval for a share ``p`` of ``n``, where ``n`` may be fractional (an effective size)."""
    if n <= 0:
        return 0.0, 1.0
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _labels(y: ArrayLike) -> NDArray:
    labels = np.asarray(y, dtype=float).ravel()
    if not np.all((labels == 0) | (labels == 1)):
        raise ValueError("labels must be 0 or 1")
    return labels


def _inclusion(inclusion: ArrayLike | None, n: int, big_n: int) -> NDArray:
    if inclusion is None:
        return np.full(n, n / big_n if big_n else 1.0)
    pi = np.asarray(inclusion, dtype=float).ravel()
    if len(pi) != n:
        raise ValueError(f"{len(pi)} inclusion probabilities for {n} judged answers")
    if pi.size and not (pi.min() > 0 and pi.max() <= 1):
        raise ValueError("inclusion probabilities must be in (0, 1]")
    return pi


def _inputs(predicted_all: ArrayLike, predicted: ArrayLike, y: ArrayLike, inclusion: ArrayLike | None) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    f_all, f, labels = np.asarray(predicted_all, dtype=float).ravel(), np.asarray(predicted, dtype=float).ravel(), _labels(y)
    if len(f) != len(labels):
        raise ValueError(f"{len(f)} predictions for {len(labels)} judged labels")
    if len(labels) > len(f_all):
        raise ValueError(f"{len(labels)} judged answers of a window of {len(f_all)}")
    for name, values in (("predicted_all", f_all), ("predicted", f)):
        if values.size and not (values.min() >= 0 and values.max() <= 1):  # written so that NaN fails too
            raise ValueError(f"{name} must be probabilities in [0, 1]")
    return f_all, f, labels, _inclusion(inclusion, len(labels), len(f_all))
