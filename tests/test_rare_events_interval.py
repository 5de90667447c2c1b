"""Exact intervals for plain Monte Carlo (docs/rare-events/index.md, 'Error bars ...', eq. (14))."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dnnf.rare_events import GamblersRuin, clopper_pearson, plain_monte_carlo, rule_of_three


@pytest.mark.claim("rare-events/index.md#eq-14", note="against scipy")
@pytest.mark.parametrize(
    "hits,n", [(0, 1), (1, 1), (0, 3000), (1, 3000), (7, 50), (50, 50), (49, 50), (3, 10**7), (5000, 10**4)]
)
@pytest.mark.parametrize("level", [0.95, 0.99, 0.5])
def test_clopper_pearson_matches_beta_quantiles(hits, n, level):
    """docs/rare-events/index.md, eq. (14): the bounds are the beta quantiles B^-1(a/2; K, n-K+1) and
    B^-1(1-a/2; K+1, n-K), as scipy.stats.beta computes them, to 1e-9 relative."""
    alpha = 1 - level
    lower, upper = clopper_pearson(hits, n, level)
    ref_lower = 0.0 if hits == 0 else stats.beta.ppf(alpha / 2, hits, n - hits + 1)
    ref_upper = 1.0 if hits == n else stats.beta.ppf(1 - alpha / 2, hits + 1, n - hits)
    assert lower == pytest.approx(ref_lower, rel=1e-9, abs=1e-300)
    assert upper == pytest.approx(ref_upper, rel=1e-9)


@pytest.mark.claim("rare-events/index.md#eq-14", note="against scipy")
@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 400), frac=st.floats(0, 1), level=st.floats(0.5, 0.999))
def test_clopper_pearson_matches_scipy_binomtest(n, frac, level):
    """docs/rare-events/index.md, eq. (14): agrees with scipy.stats.binomtest(...).proportion_ci('exact')."""
    hits = round(frac * n)
    ci = stats.binomtest(hits, n).proportion_ci(confidence_level=level, method="exact")
    lower, upper = clopper_pearson(hits, n, level)
    assert lower == pytest.approx(ci.low, rel=1e-7, abs=1e-12)
    assert upper == pytest.approx(ci.high, rel=1e-7, abs=1e-12)


@pytest.mark.claim(
    "rare-events/index.md#error-bars-and-an-effective-sample-size-that-means-something",
    note="the rule of three",
)
def test_rule_of_three_and_the_zero_hit_interval_at_3000_paths():
    """docs/rare-events/index.md, 'Why plain Monte Carlo is blind': 3,000 paths with no hit give the
    one-sided 95% bound 1 - 0.05^(1/3000) = 9.98e-4 <= 3/3000, and the two-sided exact interval
    [0, 1.23e-3]; both contain the true 2.39e-6, unlike the normal interval [0, 0]."""
    bound = rule_of_three(3000)
    assert bound == pytest.approx(1 - 0.05 ** (1 / 3000), rel=1e-12)
    assert bound == pytest.approx(9.98e-4, rel=1e-3) and bound <= 3 / 3000
    assert (1 - bound) ** 3000 == pytest.approx(0.05, rel=1e-9)
    lower, upper = clopper_pearson(0, 3000)
    assert lower == 0.0 and upper == pytest.approx(1.229e-3, rel=1e-3)
    result = plain_monte_carlo(GamblersRuin(18 / 37, 100, 200, 600), 3000, seed=0)
    assert result.num_hits == 0 and result.confidence_interval() == (0.0, 0.0)
    assert clopper_pearson(result.num_hits, result.num_paths)[1] > 2.39e-6


@pytest.mark.claim("rare-events/index.md#eq-14", note="coverage by exact summation")
def test_clopper_pearson_coverage_is_at_least_nominal():
    """eq. (14): exact coverage, computed by summing the binomial pmf over all outcomes, is >= 95% for
    several P (the normal interval falls far below it for small n P)."""
    n = 60
    for p in (0.002, 0.03, 0.3, 0.5, 0.9):
        pmf = stats.binom.pmf(np.arange(n + 1), n, p)
        covered = [lo <= p <= hi for lo, hi in (clopper_pearson(k, n) for k in range(n + 1))]
        assert float(pmf[covered].sum()) >= 0.95


@pytest.mark.claim("rare-events/index.md", note="input checks")
@pytest.mark.parametrize(
    "args,error",
    [
        ((-1, 5), ValueError),
        ((6, 5), ValueError),
        ((0, 0), ValueError),
        ((1.0, 5), TypeError),
        ((True, 5), TypeError),
    ],
)
def test_bad_interval_input(args, error):
    """Bad counts and levels name the argument."""
    with pytest.raises(error, match="hits|n "):
        clopper_pearson(*args)
    with pytest.raises(ValueError, match="level"):
        clopper_pearson(1, 5, level=1.0)
    with pytest.raises(ValueError, match="level"):
        rule_of_three(5, level=0.0)
    assert math.isfinite(rule_of_three(1))
