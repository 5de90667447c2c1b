"""The two estimators on general distributions, the variance helper, and their input checks.

Stochastic checks use fixed seeds and a tolerance of Z = 4 standard errors, each standard error computed
from the replicates of the estimator itself (``estimator_statistics``); a wrong estimator misses by many.
"""

import numpy as np
import pytest
import torch
from numpy.polynomial.hermite_e import hermegauss
from torch.distributions import Bernoulli, Categorical, Normal

from dnnf.estimators import (
    estimator_statistics,
    leave_one_out_baseline,
    pathwise_gradient,
    pathwise_surrogate,
    score_function_gradient,
    score_function_surrogate,
    x_sin_x,
)

Z = 4.0


def _normal(mu, tau):
    return Normal(mu, tau.exp())


@pytest.mark.claim(
    "estimators/index.md#thm-3",
    "estimators/index.md#eq-2",
    note="on discrete distributions against exact derivatives",
)
def test_score_function_unbiased_on_bernoulli():
    """docs/estimators/index.md, eq. (2): the score-function estimator on a discrete q (no rsample).

    For Z ~ Bernoulli(p), d/dp E[f(Z)] = f(1) - f(0) exactly.
    """
    torch.manual_seed(0)
    p = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64)

    def f(z):
        return (z - 0.3) ** 2

    for baseline in ("loo", None):
        stats = estimator_statistics("score", f, Bernoulli, [p], 32, 400, baseline=baseline)
        exact = torch.full_like(p, 0.7**2 - 0.3**2)
        assert torch.all((stats.mean[0] - exact).abs() < Z * stats.standard_error[0])


@pytest.mark.claim(
    "estimators/index.md#thm-3",
    "estimators/index.md#eq-2",
    note="on discrete distributions against exact derivatives",
)
def test_score_function_categorical_batch_and_surrogate_value():
    """docs/estimators/index.md, eq. (2): categorical q, logits (d/dlogit_k E f = p_k (f_k - E f))."""
    torch.manual_seed(1)
    logits = torch.tensor([0.3, -0.2, 1.0], dtype=torch.float64)
    values = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)

    def f(z):
        return values[z]

    stats = estimator_statistics("score", f, lambda lg: Categorical(logits=lg), [logits], 16, 600)
    probs = torch.softmax(logits, 0)
    exact = probs * (values - (probs * values).sum())  # d/dlogit_k E[f] = p_k (f_k - E f)
    assert torch.all((stats.mean[0] - exact).abs() < Z * stats.standard_error[0])
    surrogate = score_function_surrogate(f, Categorical(logits=logits), 50)
    assert surrogate.shape == ()


@pytest.mark.claim(
    "estimators/index.md#eq-2",
    "estimators/index.md#eq-3",
    "estimators/index.md#eq-4",
    note="against Gauss–Hermite quadrature",
)
def test_pathwise_and_score_agree_with_quadrature_gradient():
    """docs/estimators/index.md, eqs. (2)-(4): both estimators are unbiased for a Gaussian q, f(x) = x sin x.

    The reference gradient of E[f(mu + exp(tau) eps)] in (mu, tau) is computed by 80-node
    Gauss-Hermite quadrature (error far below the Monte Carlo standard error).
    """
    torch.manual_seed(2)
    mu = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64)
    tau = torch.tensor([0.3, -0.5, 0.0], dtype=torch.float64)
    nodes, weights = (torch.from_numpy(a) for a in hermegauss(80))
    weights = weights / weights.sum()
    m, t = mu.clone().requires_grad_(), tau.clone().requires_grad_()
    quad = (weights * x_sin_x(m[:, None] + t.exp()[:, None] * nodes)).sum(-1)
    exact = torch.autograd.grad(quad.sum(), (m, t))
    for estimator, baseline in (("pathwise", None), ("score", None), ("score", "loo")):
        stats = estimator_statistics(estimator, x_sin_x, _normal, [mu, tau], 16, 500, baseline=baseline)
        for got, se, ref in zip(stats.mean, stats.standard_error, exact, strict=True):
            assert torch.all((got - ref).abs() < Z * se), (estimator, baseline, got, ref, se)


@pytest.mark.claim("estimators/index.md#eq-5", note="against the exact per-term variances")
def test_per_sample_variance_matches_quadrature():
    """docs/estimators/index.md, eq. (5): the measured per-sample variance equals the exact one.

    For i.i.d. terms n Var[g_n] is the variance of one term, here computed by quadrature;
    the tolerance is Z times the helper's own standard error of the variance estimate.
    """
    torch.manual_seed(3)
    mu, sigma = 0.5, 1.3
    x, w = hermegauss(120)
    w = w / w.sum()
    xs = mu + sigma * x
    f, g = xs * np.sin(xs), np.sin(xs) + xs * np.cos(xs)

    def var(a):
        return float((w * a * a).sum() - (w * a).sum() ** 2)

    exact = {"pathwise": (var(g), var(g * sigma * x)), "score": (var(f * x / sigma), var(f * (x * x - 1)))}
    params = [torch.tensor(mu, dtype=torch.float64), torch.tensor(sigma, dtype=torch.float64).log()]
    for estimator, ref in exact.items():
        stats = estimator_statistics(estimator, x_sin_x, _normal, params, 8, 4000, baseline=None)
        for v, se, r in zip(stats.per_sample_variance, stats.per_sample_variance_se, ref, strict=True):
            assert abs(float(v) - r) < Z * float(se), (estimator, float(v), r, float(se))


@pytest.mark.claim("estimators/index.md#eq-3")
def test_leave_one_out_baseline_is_mean_of_others():
    """docs/estimators/index.md, eq. (3): $b_i$ is the mean of the other draws' values."""
    values = torch.tensor([[1.0, 2.0], [3.0, 5.0], [8.0, -1.0]])
    expected = torch.stack([(values.sum(0) - values[i]) / 2 for i in range(3)])
    torch.testing.assert_close(leave_one_out_baseline(values), expected)


@pytest.mark.claim(
    "estimators/index.md#in-code-surrogate-losses",
    note="the gradient helpers equal the surrogates' gradients",
)
def test_gradient_helpers_match_surrogates():
    """The convenience gradients are the gradients of the surrogates (same seed, same draws)."""
    mu = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    tau = torch.tensor(-0.2, dtype=torch.float64, requires_grad=True)
    for helper, surrogate, kwargs in (
        (score_function_gradient, score_function_surrogate, {"baseline": "loo"}),
        (pathwise_gradient, pathwise_surrogate, {}),
    ):
        torch.manual_seed(4)
        got = helper(x_sin_x, _normal(mu, tau), [mu, tau], 64, **kwargs)
        torch.manual_seed(4)
        expected = torch.autograd.grad(surrogate(x_sin_x, _normal(mu, tau), 64, **kwargs), (mu, tau))
        for a, b in zip(got, expected, strict=True):
            torch.testing.assert_close(a, b)


@pytest.mark.claim("estimators/index.md", note="input checks")
def test_bad_input_errors():
    """Bad input is rejected at the public boundary with the argument's name."""
    mu = torch.tensor(0.0, requires_grad=True)
    q = Normal(mu, 1.0)
    with pytest.raises(TypeError, match="rsample"):
        pathwise_surrogate(lambda z: z, Bernoulli(torch.tensor(0.5)), 10)
    with pytest.raises(ValueError, match="scale"):
        estimator_statistics("pathwise", x_sin_x, Normal, [torch.tensor(0.0), torch.tensor(-1.0)], 4, 4)
    with pytest.raises(ValueError, match="f must return one value per draw"):
        pathwise_surrogate(lambda z: z.sum(), q, 10)
    with pytest.raises(ValueError, match="f must return one value per draw"):
        score_function_surrogate(lambda z: z[:, None].expand(-1, 2), q, 10)
    with pytest.raises(TypeError, match="f must return a torch.Tensor"):
        score_function_surrogate(lambda z: 1.0, q, 10)
    with pytest.raises(TypeError, match="dist must be"):
        score_function_surrogate(x_sin_x, "normal", 10)
    with pytest.raises(ValueError, match="num_samples must be an integer >= 2"):
        score_function_surrogate(x_sin_x, q, 1)
    with pytest.raises(ValueError, match="baseline must be"):
        score_function_surrogate(x_sin_x, q, 10, baseline="mean")
    with pytest.raises(ValueError, match="estimator must be"):
        estimator_statistics("reinforce", x_sin_x, Normal, [torch.tensor(0.0), torch.tensor(1.0)], 4, 4)
    with pytest.raises(ValueError, match="num_replicates"):
        estimator_statistics("score", x_sin_x, Normal, [torch.tensor(0.0), torch.tensor(1.0)], 4, 1)
