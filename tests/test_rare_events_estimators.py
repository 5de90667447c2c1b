"""Importance-sampling estimators of the rare-events chapter (docs/rare-events/index.md).

Stochastic tests use fixed seeds; tolerances are multiples of the estimator's own standard error
(4 SE: a correct estimator fails with probability 6e-5 per check) or of the binomial standard
deviation of a coverage count.
"""

import math

import numpy as np
import pytest

from dnnf.rare_events import (
    BridgeTilt,
    FixedTilt,
    GamblersRuin,
    ZeroVarianceTilt,
    cross_entropy_tilt,
    estimate_from_log_weights,
    exact_probability,
    horizon_tilt,
    importance_sampling,
    infinite_horizon_probability,
    plain_monte_carlo,
    simulate_paths,
    swapped_tilt,
    weight_ess,
)
from dnnf.rare_events.binomial import AliasBinomial

ROULETTE = GamblersRuin(18 / 37, 100, 200, 600)
SMALL = GamblersRuin(0.4, 3, 12, 40)


@pytest.mark.claim("rare-events/index.md#eq-5", note="within 4 standard errors")
@pytest.mark.parametrize("q", [0.4, 0.5, 0.6, 0.7])
def test_is_agrees_with_exact_value_across_q(q):
    """docs/rare-events/index.md, eq. (5): the estimate is within 4 of its own SE of u_T(s) for several q."""
    exact = exact_probability(SMALL)
    result = importance_sampling(SMALL, FixedTilt(q), 20_000, seed=int(q * 100))
    assert abs(result.estimate - exact) < 4 * result.std_error


@pytest.mark.claim("rare-events/index.md#eq-5", note="within 4 standard errors")
@pytest.mark.parametrize("make", [horizon_tilt, lambda g: BridgeTilt(g), lambda g: FixedTilt(0.55)])
def test_roulette_estimates_agree_with_dp(make):
    """docs/rare-events/index.md, 'Exact answers': IS for the 600-game question agrees with the DP (4 SE)."""
    result = importance_sampling(ROULETTE, make(ROULETTE), 20_000, seed=7)
    assert abs(result.estimate - exact_probability(ROULETTE)) < 4 * result.std_error
    assert result.relative_error < 0.05


@pytest.mark.claim(
    "rare-events/index.md#error-bars-and-an-effective-sample-size-that-means-something",
    note="the 95% interval's coverage over 400 seeds",
)
def test_interval_coverage_is_nominal():
    """docs/rare-events/index.md, 'Error bars and an effective sample size': the 95% interval covers
    u_T(s) in 95% of 400 runs, within 4 binomial standard deviations."""
    exact = exact_probability(SMALL)
    runs = 400
    rng = np.random.default_rng(2024)
    covered = 0
    for _ in range(runs):
        lo, hi = importance_sampling(SMALL, FixedTilt(0.6), 400, seed=rng).confidence_interval(0.95)
        covered += lo <= exact <= hi
    sd = math.sqrt(0.95 * 0.05 / runs)
    assert abs(covered / runs - 0.95) < 4 * sd


@pytest.mark.claim("rare-events/index.md#eq-12", note="both horizons")
@pytest.mark.parametrize("horizon", [600, None])
def test_zero_variance_proposal_has_no_spread(horizon):
    """docs/rare-events/index.md, eq. (12): every path returns the exact answer."""
    problem = GamblersRuin(18 / 37, 100, 200, horizon)
    result = importance_sampling(problem, ZeroVarianceTilt(problem), 300 if horizon else 40, seed=3)
    assert result.num_hits == result.num_paths
    assert result.relative_error < 1e-8
    assert result.estimate == pytest.approx(exact_probability(problem), rel=1e-8)


@pytest.mark.claim("rare-events/index.md#eq-7", note="path by path")
def test_swapped_coin_has_constant_likelihood_ratio_on_success():
    """docs/rare-events/index.md, eq. (7): with T = inf, w = (p/(1-p))^(N-s) on every successful path."""
    problem = GamblersRuin(18 / 37, 10, 30)
    batch = simulate_paths(problem, swapped_tilt(problem), 5000, np.random.default_rng(0))
    hit = batch.balance == problem.goal
    expected = problem.distance * math.log(problem.p / (1 - problem.p))
    np.testing.assert_allclose(batch.log_weight[hit], expected, rtol=1e-9)
    # and the swapped walk succeeds with the closed-form probability for coin 1 - p
    success = infinite_horizon_probability(1 - problem.p, problem.start, problem.goal)
    assert abs(hit.mean() - success) < 4 * math.sqrt(success * (1 - success) / hit.size)


@pytest.mark.claim("rare-events/index.md#eq-4")
def test_plain_monte_carlo_cannot_see_the_event():
    """docs/rare-events/index.md, 'Why plain Monte Carlo is blind', eq. (4): 10^4 paths expect 0.024 hits.

    P(3 or more hits) is about 2e-6, so with at most 2 hits the estimate is 0 (no information, ESS 0)
    or has a relative error of at least 1/sqrt(2).
    """
    for seed in range(3):
        result = plain_monte_carlo(ROULETTE, 10_000, seed=seed)
        assert result.num_hits <= 2
        assert result.effective_sample_size == result.num_hits
        if result.num_hits == 0:
            assert result.estimate == 0.0 and result.confidence_interval() == (0.0, 0.0)
        else:
            assert result.relative_error > 0.7


@pytest.mark.claim("rare-events/index.md#eq-4")
def test_plain_monte_carlo_on_a_common_event():
    """Plain MC is IS with q = p: weights are 1, ESS is the number of hits."""
    problem = GamblersRuin(0.45, 5, 10, 60)
    result = plain_monte_carlo(problem, 20_000, seed=1)
    assert abs(result.estimate - exact_probability(problem)) < 4 * result.std_error
    assert result.effective_sample_size == pytest.approx(result.num_hits)


@pytest.mark.claim("rare-events/index.md#eq-13")
def test_ess_identity():
    """docs/rare-events/index.md, eq. (13): squared relative error = 1/ESS - 1/n (up to n/(n-1))."""
    result = importance_sampling(SMALL, FixedTilt(0.6), 5000, seed=5)
    n = result.num_paths
    assert result.relative_error**2 == pytest.approx((1 / result.effective_sample_size - 1 / n) * n / (n - 1))


@pytest.mark.claim("rare-events/index.md#eq-13")
def test_ess_identity_needs_the_factor_n_over_n_minus_1_at_small_n():
    """docs/rare-events/index.md, eq. (13), and the docstring of RareEventEstimate.effective_sample_size:
    at n = 50 the factor n/(n-1) is visible (0.034297 with it, 0.033611 without)."""
    log_w = np.log(np.array([1.0, 0.5, 0.25, 2.0, 1.5, 0.1, 0.3]))
    result = estimate_from_log_weights(log_w, 50)
    n, ess = 50, result.effective_sample_size
    with_factor = (1 / ess - 1 / n) * n / (n - 1)
    assert result.relative_error**2 == pytest.approx(with_factor, rel=1e-12)
    assert abs(result.relative_error**2 - (1 / ess - 1 / n)) > 1e-2 * with_factor
    doc = type(result).__doc__
    assert r"(1/\mathrm{ESS} - 1/n)\,\frac{n}{n-1}" in doc


@pytest.mark.claim("rare-events/index.md#eq-10")
def test_cross_entropy_finds_the_finite_horizon_tilt():
    """docs/rare-events/index.md, eq. (10): q settles near the best fixed tilt (about 0.59)."""
    tilt, history = cross_entropy_tilt(ROULETTE, num_pilot=2000, seed=0)
    assert history[0] == pytest.approx(18 / 37)
    assert 0.57 < tilt.q < 0.61


@pytest.mark.claim("rare-events/index.md#lemma-leap", note="the binomial draws of the leap")
def test_alias_binomial_matches_pmf():
    """The O(1) binomial sampler reproduces Bin(b, q) frequencies within 5 binomial SD."""
    sampler = AliasBinomial(np.array([0.3, 0.8]), 12)
    rng = np.random.default_rng(0)
    n = 200_000
    for level, q in enumerate((0.3, 0.8)):
        k = sampler.sample(rng, np.full(n, level), np.full(n, 12))
        pmf = np.array([math.comb(12, j) * q**j * (1 - q) ** (12 - j) for j in range(13)])
        freq = np.bincount(k, minlength=13) / n
        assert np.all(np.abs(freq - pmf) < 5 * np.sqrt(pmf * (1 - pmf) / n) + 1e-12)


@pytest.mark.claim("rare-events/index.md", note="input checks")
def test_bad_estimator_input():
    """Zero paths, bad q, wrong problem type are rejected with the argument's name."""
    with pytest.raises(ValueError, match="num_paths"):
        importance_sampling(SMALL, FixedTilt(0.5), 0)
    with pytest.raises(TypeError, match="num_paths"):
        importance_sampling(SMALL, FixedTilt(0.5), 10.0)
    for q in (0.0, 1.0, -0.2, 2.0):
        with pytest.raises(ValueError, match="q"):
            FixedTilt(q)
    with pytest.raises(TypeError, match="problem"):
        importance_sampling((0.4, 3, 12), FixedTilt(0.5), 10)
    with pytest.raises(ValueError, match="proposal"):
        importance_sampling(SMALL, BridgeTilt(ROULETTE), 10)
    with pytest.raises(ValueError, match="level"):
        estimate_from_log_weights(np.zeros(3), 10).confidence_interval(1.0)


@pytest.mark.claim("rare-events/index.md#eq-11", note="including $q = 1$")
def test_bridge_tilt_on_a_small_problem():
    """docs/rare-events/index.md, eq. (11): unbiased where q = 1 is often used (short horizon)."""
    problem = GamblersRuin(0.4, 3, 12, 15)
    result = importance_sampling(problem, BridgeTilt(problem), 20_000, seed=11)
    assert abs(result.estimate - exact_probability(problem)) < 4 * result.std_error


@pytest.mark.claim("rare-events/index.md#eq-11", note="including $q = 1$")
def test_bridge_tilt_is_exact_when_only_straight_wins_succeed():
    """docs/rare-events/index.md, eq. (11): with T = N - s, q = 1 and every path returns p^(N-s)."""
    problem = GamblersRuin(0.3, 2, 9, 7)
    result = importance_sampling(problem, BridgeTilt(problem), 100, seed=0)
    assert result.num_hits == 100
    assert result.estimate == pytest.approx(0.3**7, rel=1e-12)
    assert result.std_error < 1e-12 * result.estimate


@pytest.mark.claim("rare-events/index.md#eq-13")
def test_kish_weight_ess_is_the_wrong_diagnostic():
    """docs/rare-events/index.md, eq. (13) and below: Kish's ESS of the weights says n for plain MC with
    no hits and ~10 for a 1%-accurate tilt; the ESS of (13) says 0 and thousands."""
    rng = np.random.default_rng(0)
    n = 20_000
    plain = simulate_paths(ROULETTE, FixedTilt(ROULETTE.p), n, rng)
    tilted = simulate_paths(ROULETTE, horizon_tilt(ROULETTE), n, rng)
    assert weight_ess(plain.log_weight) == pytest.approx(n)
    assert (plain.balance == ROULETTE.goal).sum() <= 2
    good = estimate_from_log_weights(tilted.log_weight[tilted.balance == ROULETTE.goal], n)
    assert good.relative_error < 0.02 and good.effective_sample_size > 2000
    assert weight_ess(tilted.log_weight) < 100
