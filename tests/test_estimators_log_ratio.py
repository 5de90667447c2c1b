"""The log-ratio identity (6) of docs/estimators/index.md: grad E_q[log(h/q)] for Gaussians, in closed form.
"""

import pytest
import torch
from numpy.polynomial.hermite_e import hermegauss
from torch.distributions import Normal

from dnnf.estimators import (
    estimator_statistics,
    gaussian_log_ratio_expectation,
    gaussian_log_ratio_gradient,
)

CASES = [(0.0, 1.0, 1.5, 0.7), (-2.0, 0.4, 0.3, 2.0), (1.0, 2.0, 1.0, 2.0)]  # (mu, sigma, m, s)
LOG_C = 0.8  # an unnormalised target h = e^c N(m, s^2)


def _quadrature(mu, sigma, n_nodes=20):
    """Nodes z and weights of E_{N(mu, sigma^2)}: exact for polynomials of degree < 2 n_nodes."""
    x, w = (torch.from_numpy(a) for a in hermegauss(n_nodes))
    return mu + sigma * x, w / w.sum()


def _score(z, mu, sigma):
    """(d/dmu, d/dsigma) log N(z; mu, sigma^2), stacked in the last dimension."""
    return torch.stack([(z - mu) / sigma**2, (z - mu) ** 2 / sigma**3 - 1 / sigma], -1)


def _normal64(loc, scale):
    return Normal(torch.as_tensor(loc, dtype=torch.float64), torch.as_tensor(scale, dtype=torch.float64))


def _log_ratio(z, mu, sigma, m, s):
    return LOG_C + _normal64(m, s).log_prob(z) - _normal64(mu, sigma).log_prob(z)


@pytest.mark.claim("estimators/index.md#eq-7", "estimators/index.md#eq-8")
@pytest.mark.parametrize("mu, sigma, m, s", CASES)
def test_closed_form_expectation_and_gradient(mu, sigma, m, s):
    """docs/estimators/index.md, eq. (7): the closed form of E_q[log(h/q)] and its gradient (8).

    Quadrature is exact here (the integrand is a quadratic polynomial in z); the gradient is checked against
    autograd of the closed form.
    """
    z, w = _quadrature(torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64))
    expectation = gaussian_log_ratio_expectation(mu, sigma, m, s, LOG_C)
    reference = (w * _log_ratio(z, mu, sigma, m, s)).sum()
    torch.testing.assert_close(expectation, reference, rtol=1e-12, atol=1e-12)
    p = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    (auto,) = torch.autograd.grad(gaussian_log_ratio_expectation(p[0], p[1], m, s, LOG_C), p)
    torch.testing.assert_close(gaussian_log_ratio_gradient(mu, sigma, m, s), auto, rtol=1e-12, atol=1e-12)


@pytest.mark.claim(
    "estimators/index.md#eq-1",
    "estimators/index.md#lemma-2",
    "estimators/index.md#eq-6",
    note="by exact quadrature",
)
@pytest.mark.parametrize("mu, sigma, m, s", CASES)
def test_identity_exact(mu, sigma, m, s):
    """docs/estimators/index.md, eqs. (1) and (6): E_q[score * log(h/q)] is the gradient, and E_q[score] = 0.

    Both sides by quadrature, exact to rounding (polynomial integrands of degree <= 4).
    """
    mu_t, sigma_t = torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64)
    z, w = _quadrature(mu_t, sigma_t)
    score = _score(z, mu_t, sigma_t)
    rhs = (w[:, None] * score * _log_ratio(z, mu, sigma, m, s)[:, None]).sum(0)
    torch.testing.assert_close(rhs, gaussian_log_ratio_gradient(mu, sigma, m, s), rtol=1e-11, atol=1e-11)
    zero = torch.zeros(2, dtype=torch.float64)
    torch.testing.assert_close((w[:, None] * score).sum(0), zero, atol=1e-13, rtol=0)


@pytest.mark.claim("estimators/index.md#eq-6", note="by Monte Carlo, with and without the direct term")
def test_identity_monte_carlo():
    """docs/estimators/index.md, eq. (6): the Monte Carlo estimator of the identity is unbiased.

    Two forms: the integrand with q's parameters held fixed (exactly the right-hand side of (6)), and the
    integrand that still depends on phi (the surrogate then adds the direct term -score, of mean zero).
    Tolerance: 4 standard errors of each estimator's own replicates.
    """
    torch.manual_seed(10)
    mu, sigma, m, s = CASES[0]
    exact = gaussian_log_ratio_gradient(mu, sigma, m, s)
    params = [torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64)]

    def fixed_q(z):
        return _log_ratio(z, mu, sigma, m, s)

    stats = estimator_statistics("score", fixed_q, Normal, params, 32, 800, baseline=None)
    got, se = torch.stack(stats.mean), torch.stack(stats.standard_error)
    assert torch.all((got - exact).abs() < 4 * se), (got, exact, se)

    # Integrand that depends on phi: build q inside make_dist so that f sees the differentiable copies.
    holder = {}

    def make_dist(mu_c, sigma_c):
        holder["q"] = Normal(mu_c, sigma_c)
        return holder["q"]

    def direct(z):
        return LOG_C + _normal64(m, s).log_prob(z) - holder["q"].log_prob(z)

    stats = estimator_statistics("score", direct, make_dist, params, 32, 800, baseline=None)
    got, se = torch.stack(stats.mean), torch.stack(stats.standard_error)
    assert torch.all((got - exact).abs() < 4 * se), (got, exact, se)


@pytest.mark.claim("estimators/index.md", note="input checks")
def test_bad_scale_rejected():
    """A non-positive scale is rejected with the argument's name."""
    with pytest.raises(ValueError, match="sigma"):
        gaussian_log_ratio_expectation(0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="h_sigma"):
        gaussian_log_ratio_gradient(0.0, 1.0, 0.0, -1.0)
