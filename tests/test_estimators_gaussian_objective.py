"""The Gaussian objective (docs/estimators/gaussian-objective.md): closed form, stationary points, variances.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize
from torch.distributions import Normal
from torch.func import hessian

from dnnf.estimators import (
    estimator_statistics,
    expected_x_sin_x,
    gaussian_objective,
    gaussian_objective_gradient,
    gaussian_objective_hessian,
    stationary_points,
    x_sin_x,
)

Z = 4.0  # tolerance in standard errors for every Monte Carlo comparison
POINTS = [(0.0, 1.0), (0.442, 0.606), (1.367, 1.962), (-2.5, 0.3), (4.0, 2.5)]
LOCAL_MIN = (0.44229748832082, 0.60649502493158)
SADDLE = (0.86295767249836, 1.17433201791135)
GLOBAL_MIN = (1.36669929517147, 1.96219822814220)


def _normal_tau(mu, tau):
    return Normal(mu, tau.exp())


@pytest.mark.claim(
    "estimators/gaussian-objective.md#lemma-1",
    "estimators/gaussian-objective.md#eq-1",
    note="against scipy's adaptive quadrature at five points",
)
@pytest.mark.parametrize("mu, sigma", POINTS)
def test_expected_x_sin_x_against_quadrature(mu, sigma):
    """gaussian-objective.md, eq. (1): E[X sin X] = exp(-s^2/2)(mu sin mu + s^2 cos mu), vs scipy quad."""

    def integrand(x):
        density = math.exp(-((x - mu) ** 2) / (2 * sigma**2)) / math.sqrt(2 * math.pi * sigma**2)
        return x * math.sin(x) * density

    lo, hi = mu - 40 * sigma, mu + 40 * sigma
    reference, _ = integrate.quad(integrand, lo, hi, epsabs=1e-13, epsrel=1e-13, limit=400)
    assert abs(float(expected_x_sin_x(mu, sigma)) - reference) < 1e-10


@pytest.mark.claim(
    "estimators/gaussian-objective.md#eq-2",
    "estimators/gaussian-objective.md#eq-3",
    note="against automatic differentiation",
)
@pytest.mark.parametrize("mu, sigma", POINTS)
def test_gradient_and_hessian_closed_forms(mu, sigma):
    """gaussian-objective.md, eqs. (2)-(3): closed-form gradient and Hessian vs autograd of J."""
    x = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    (auto_grad,) = torch.autograd.grad(gaussian_objective(x[0], x[1]), x)
    torch.testing.assert_close(gaussian_objective_gradient(mu, sigma), auto_grad, rtol=1e-12, atol=1e-12)
    auto_hess = hessian(lambda v: gaussian_objective(v[0], v[1]))(x.detach())
    torch.testing.assert_close(gaussian_objective_hessian(mu, sigma), auto_hess, rtol=1e-12, atol=1e-12)


@pytest.mark.claim(
    "estimators/gaussian-objective.md#eq-2",
    note="and the heat equation at 40 random points (hypothesis)",
)
@settings(max_examples=40, deadline=None)
@given(mu=st.floats(-10.0, 10.0), sigma=st.floats(0.05, 5.0))
def test_gradient_closed_form_property(mu, sigma):
    """gaussian-objective.md, eq. (2) and the heat equation: random points, against autograd of eq. (1)."""
    x = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    (auto_grad,) = torch.autograd.grad(gaussian_objective(x[0], x[1]), x)
    torch.testing.assert_close(gaussian_objective_gradient(mu, sigma), auto_grad, rtol=1e-10, atol=1e-10)
    h = gaussian_objective_hessian(mu, sigma)
    # d/dsigma E[X sin X] = sigma d^2/dmu^2 E[X sin X]: the (sigma, mu-mu) parts of (2) and (3)
    e_sigma = float(gaussian_objective_gradient(mu, sigma)[1]) - (1 - 1 / sigma)
    assert abs(e_sigma - sigma * (float(h[0, 0]) - 1)) < 1e-10 * (1 + abs(e_sigma))


@pytest.mark.claim(
    "estimators/gaussian-objective.md#eq-4",
    "estimators/gaussian-objective.md#prop-2",
    "estimators/gaussian-objective.md#every-stationary-point",
    note="the table: three points, their type, and no other root from scipy's finder",
)
def test_stationary_points_complete_and_classified():
    """gaussian-objective.md, eq. (4) and the table: two minima and one saddle in [-20, 40] x [0.02, 6].

    Independent check: scipy's hybrid root finder, on a separate NumPy transcription of the gradient (eq. 2),
    from another grid of starts, finds no other point.
    """
    points = stationary_points()
    assert [p.kind for p in points] == ["minimum", "saddle", "minimum"]
    for p, ref in zip(points, (LOCAL_MIN, SADDLE, GLOBAL_MIN), strict=True):
        assert abs(p.mu - ref[0]) < 1e-11 and abs(p.sigma - ref[1]) < 1e-11
        assert float(gaussian_objective_gradient(p.mu, p.sigma).abs().max()) < 1e-12
    assert points[2].value < points[0].value  # the reference solution's point: a local minimum only

    def grad(v):
        m, s = v[0], max(v[1], 1e-8)
        damp = np.exp(-s * s / 2)
        return np.array(
            [
                damp * (np.sin(m) + m * np.cos(m) - s * s * np.sin(m)) + m - 1,
                s * damp * ((2 - s * s) * np.cos(m) - m * np.sin(m)) + 1 - 1 / s,
            ]
        )

    others = []
    for m0 in np.linspace(-20, 40, 61):
        for s0 in np.geomspace(0.05, 6, 8):
            r = optimize.root(grad, [m0, s0], tol=1e-13)
            m, s = r.x
            if r.success and 0.02 <= s <= 6 and -20 <= m <= 40 and np.abs(grad(r.x)).max() < 1e-10:
                if all(math.hypot(m - p.mu, s - p.sigma) > 1e-6 for p in points):
                    others.append((m, s))
    assert others == []


@pytest.mark.claim("estimators/gaussian-objective.md", note="input checks")
def test_stationary_points_input_checks():
    """Bad rectangles are rejected with the argument's name."""
    with pytest.raises(ValueError, match="sigma_range"):
        stationary_points(sigma_range=(0.0, 1.0))
    with pytest.raises(ValueError, match="mu_range"):
        stationary_points(mu_range=(1.0, 1.0))
    with pytest.raises(ValueError, match="sigma"):
        gaussian_objective(0.0, -1.0)


@pytest.mark.claim("estimators/gaussian-objective.md#eq-5", note="at five points, three estimators")
@pytest.mark.parametrize("mu, sigma", POINTS)
def test_estimators_unbiased_against_closed_form(mu, sigma):
    """gaussian-objective.md, eq. (5): both estimators (and the baseline) are unbiased for grad E[X sin X].

    Reference: the closed-form gradient (eq. 2) minus the deterministic part, in (mu, tau = log sigma):
    d/dtau = sigma d/dsigma. Tolerance: Z = 4 standard errors of the estimator's own replicates.
    """
    torch.manual_seed(20)
    g = gaussian_objective_gradient(mu, sigma)
    exact = (float(g[0]) - (mu - 1), sigma * (float(g[1]) - (1 - 1 / sigma)))
    params = [torch.tensor(mu, dtype=torch.float64), torch.tensor(math.log(sigma), dtype=torch.float64)]
    for estimator, baseline in (("pathwise", None), ("score", None), ("score", "loo")):
        stats = estimator_statistics(estimator, x_sin_x, _normal_tau, params, 16, 400, baseline=baseline)
        for got, se, ref in zip(stats.mean, stats.standard_error, exact, strict=True):
            assert abs(float(got) - ref) < Z * float(se), (estimator, baseline, float(got), ref, float(se))


def _total_variance(estimator, baseline, mu, sigma, seed, num_replicates=3000):
    """Per-sample variance summed over (mu, tau), and a conservative standard error (sum of the two SEs)."""
    torch.manual_seed(seed)
    params = [torch.tensor(mu, dtype=torch.float64), torch.tensor(math.log(sigma), dtype=torch.float64)]
    stats = estimator_statistics(
        estimator, x_sin_x, _normal_tau, params, 16, num_replicates, baseline=baseline
    )
    return float(sum(stats.per_sample_variance)), float(sum(stats.per_sample_variance_se))


def _assert_smaller(a, b):
    (va, sa), (vb, sb) = a, b
    assert vb - va > Z * math.hypot(sa, sb), (a, b)


@pytest.mark.claim("estimators/gaussian-objective.md#which-estimator-wins")
def test_variance_ordering_depends_on_the_point():
    """gaussian-objective.md, "Which estimator wins": per-sample variance (summed over mu, tau), n = 16.

    At the local minimum the pathwise estimator wins; at the global minimum the score-function estimator
    (with or without the leave-one-out baseline) wins. Each ordering must hold by more than Z standard
    errors of the difference.
    """
    local = {k: _total_variance(*k, *LOCAL_MIN, seed=30) for k in (("pathwise", None), ("score", "loo"))}
    _assert_smaller(local[("pathwise", None)], local[("score", "loo")])
    glob = {k: _total_variance(*k, *GLOBAL_MIN, 31, 20000) for k in (("pathwise", None), ("score", None))}
    _assert_smaller(glob[("score", None)], glob[("pathwise", None)])


@pytest.mark.claim("estimators/gaussian-objective.md#what-a-baseline-does")
def test_baseline_helps_or_hurts_depending_on_the_point():
    """gaussian-objective.md, "What a baseline does": leave-one-out helps at (0, 1) and hurts at (5, 1)."""
    at_origin = [_total_variance("score", b, 0.0, 1.0, seed) for b, seed in (("loo", 40), (None, 41))]
    _assert_smaller(*at_origin)
    at_five = [_total_variance("score", b, 5.0, 1.0, seed) for b, seed in ((None, 42), ("loo", 43))]
    _assert_smaller(*at_five)
