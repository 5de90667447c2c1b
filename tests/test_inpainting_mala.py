r"""MALA conditional means (dnnf/inpainting/mala.py) against targets whose conditional mean is known.

* Independent Beta pixels: $\mathbb E[x_i \mid x_K] = a / (a + b)$. Forgetting the Jacobian of
  $x = \sigma(u)$ would give the mode of $\log p$ in $u$-space instead, $(a - 1)/(a + b - 2)$, which
  these tolerances reject.
* A Gaussian in logistic coordinates, $\sigma^{-1}(x) \sim \mathcal N(m, \Sigma)$: conditioning is
  Gaussian algebra in $u$, and $\mathbb E[\sigma(u_i)]$ is a one-dimensional Gauss-Hermite integral.

Tolerances: each estimate averages 64-128 chains x 300 kept steps; the per-pixel Monte Carlo standard
error measured over seeds is below 0.004, and the tolerance 0.015 is about 4 of those. Exact answers
that a buggy chain would give instead (Jacobian dropped, proposal ratio dropped) are 0.06-0.09 away.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dnnf.inpainting import mala_inpaint, random_pixel_mask

SIDE = 3


class IndependentBeta:
    """log p(x) = sum_i (a - 1) log x_i + (b - 1) log(1 - x_i) on (B, 1, SIDE, SIDE) images."""

    def __init__(self, a: float, b: float):
        self.a, self.b = a, b

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return ((self.a - 1) * torch.log(x) + (self.b - 1) * torch.log1p(-x)).flatten(1).sum(1)


class LogisticGaussian:
    """sigma^{-1}(x) ~ N(m, Sigma): log p(x) = log N(logit x; m, Sigma) - sum log(x (1 - x))."""

    def __init__(self, mean: torch.Tensor, covariance: torch.Tensor):
        self.mean, self.covariance = mean, covariance
        self.precision = torch.linalg.inv(covariance)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        u = torch.logit(x.flatten(1))
        z = u - self.mean
        return -0.5 * ((z @ self.precision) * z).sum(1) - (torch.log(x) + torch.log1p(-x)).flatten(1).sum(1)

    def conditional_mean(self, y: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """E[sigma(u_U) | u_K] per hole pixel, by 40-point Gauss-Hermite quadrature of each marginal."""
        k = known.flatten()
        h = ~k
        s = self.covariance
        gain = s[h][:, k] @ torch.linalg.inv(s[k][:, k])
        m = self.mean[h] + gain @ (torch.logit(y.flatten()[k]) - self.mean[k])
        var = torch.diagonal(s[h][:, h] - gain @ s[k][:, h])
        nodes, weights = np.polynomial.hermite_e.hermegauss(40)
        nodes, weights = torch.from_numpy(nodes), torch.from_numpy(weights / weights.sum())
        values = torch.sigmoid(m[:, None] + var.sqrt()[:, None] * nodes[None, :])
        return (values * weights).sum(1)


@pytest.mark.claim("inpainting/conditional-mean.md#eq-9", "inpainting/conditional-mean.md#eq-10")
def test_mala_recovers_independent_beta_means():
    a, b = 2.0, 5.0
    images = torch.full((2, 1, SIDE, SIDE), 0.5, dtype=torch.float64)
    known = random_pixel_mask((SIDE, SIDE), 0.5, torch.Generator().manual_seed(0))
    result = mala_inpaint(
        IndependentBeta(a, b), images, known, num_chains=128, num_steps=600,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    hole = result.mean[:, :, ~known]
    assert torch.allclose(hole, torch.full_like(hole, a / (a + b)), atol=0.015), hole
    assert torch.equal(result.mean[:, :, known], images[:, :, known])
    assert bool(((result.samples > 0) & (result.samples < 1)).all())
    # The adaptation reaches the target acceptance rate (a loose band: it is a noisy per-chain average).
    assert 0.45 < result.acceptance.mean().item() < 0.7


@pytest.mark.claim("inpainting/conditional-mean.md#eq-9", "inpainting/conditional-mean.md#eq-10")
@pytest.mark.parametrize("seed", [0, 1])
def test_mala_recovers_a_correlated_conditional_mean(seed):
    g = torch.Generator().manual_seed(seed)
    d = SIDE * SIDE
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    covariance = a @ a.T / d + 0.3 * torch.eye(d, dtype=torch.float64)
    mean = torch.randn(d, generator=g, dtype=torch.float64)
    model = LogisticGaussian(mean, covariance)
    # An observed image drawn from the model itself.
    u = mean + torch.linalg.cholesky(covariance) @ torch.randn(d, generator=g, dtype=torch.float64)
    image = torch.sigmoid(u).view(1, 1, SIDE, SIDE)
    known = random_pixel_mask((SIDE, SIDE), 0.5, torch.Generator().manual_seed(seed))
    result = mala_inpaint(model, image, known, num_chains=64, num_steps=600, generator=g)
    expected = model.conditional_mean(image[0, 0], known)
    # The unconditional mean is a different answer: the test sees whether the known pixels are used.
    assert torch.allclose(result.mean[0, 0][~known], expected, atol=0.015), (result.mean, expected)


@pytest.mark.claim("inpainting/conditional-mean.md", note="MALA's reproducibility, shapes and input checks")
def test_mala_is_reproducible_and_keeps_its_shapes():
    images = torch.rand(3, 1, SIDE, SIDE, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    known = random_pixel_mask((3, 1, SIDE, SIDE), 0.5, torch.Generator().manual_seed(1))

    def run(seed):
        return mala_inpaint(IndependentBeta(2.0, 2.0), images, known, num_chains=4, num_steps=10,
                            generator=torch.Generator().manual_seed(seed))  # fmt: skip

    first, again, other = run(0), run(0), run(1)
    assert torch.equal(first.mean, again.mean) and not torch.equal(first.mean, other.mean)
    assert first.samples.shape == (4, 3, 1, SIDE, SIDE)
    assert first.acceptance.shape == first.step_size.shape == (4, 3)
    assert first.log_prob.shape == (11, 4, 3)
    for s in first.samples:
        assert torch.equal(s[known], images[known])


@pytest.mark.claim("inpainting/conditional-mean.md", note="MALA's reproducibility, shapes and input checks")
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"num_chains": 0}, "num_chains must be an integer >= 1"),
        ({"num_steps": 10, "warmup": 10}, "warmup must be less than num_steps"),
        ({"step_size": -1.0}, "step_size"),
        ({"target_acceptance": 1.0}, "target_acceptance"),
        ({"init": "noise"}, "init must be"),
    ],
)
def test_mala_rejects_bad_arguments(kwargs, match):
    images = torch.full((1, 1, SIDE, SIDE), 0.5)
    known = random_pixel_mask((SIDE, SIDE), 0.5, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=match):
        mala_inpaint(IndependentBeta(2.0, 2.0), images, known, **kwargs)
