r"""Projected gradient ascent and projected Langevin on a Gaussian stand-in density.

For a Gaussian $\log p(x) = -\frac12 (x - \mu)^\top \Lambda (x - \mu)$ the maximiser over the
completions of $y$ is known in closed form (the conditional mean, eq. (5) of docs/inpainting/index.md)
when it lies inside the box, and is an exact bound-constrained quadratic programme otherwise.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from dnnf.inpainting import PLAIN_SGD_RECIPE, centre_square_mask, inpaint, langevin_inpaint, random_pixel_mask

SIDE = 4  # 4 x 4 images: d = 16, small enough for exact linear algebra


class Gaussian:
    """Stand-in density on (B, 1, SIDE, SIDE) images; records every point it is evaluated at."""

    def __init__(self, mean: torch.Tensor, precision: torch.Tensor):
        self.mean, self.precision = mean, precision
        self.calls: list[torch.Tensor] = []

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append(x.detach().clone())
        z = x.flatten(1) - self.mean
        # Row-wise products and sums rather than a matmul: BLAS may round a batch differently from a
        # single row, and Adam's normalised steps amplify rounding near the optimum.
        quadratic = (z.unsqueeze(1) * self.precision * z.unsqueeze(2)).sum(dim=(1, 2))
        return -0.5 * quadratic


class FastGaussian(Gaussian):
    """The same density by one matmul and without recording: for many Langevin chains."""

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        z = x.flatten(1) - self.mean
        return -0.5 * ((z @ self.precision) * z).sum(dim=1)


def make_gaussian(seed: int, scale: float = 0.02, mean_range: tuple[float, float] = (0.3, 0.7)) -> Gaussian:
    g = torch.Generator().manual_seed(seed)
    d = SIDE * SIDE
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    covariance = scale * (a @ a.T / d + torch.eye(d, dtype=torch.float64))
    lo, hi = mean_range
    mean = lo + (hi - lo) * torch.rand(d, generator=g, dtype=torch.float64)
    return Gaussian(mean, torch.linalg.inv(covariance))


def conditional_mean(model: Gaussian, y: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Eq. (5): x_U = mu_U - Lambda_UU^{-1} Lambda_UK (y_K - mu_K), per image."""
    out = y.clone()
    for b in range(y.shape[0]):
        k = known[b].flatten() if known.dim() == 4 else known.flatten()
        u = ~k
        lam = model.precision
        yk = y[b].flatten()[k]
        xu = model.mean[u] - torch.linalg.solve(lam[u][:, u], lam[u][:, k] @ (yk - model.mean[k]))
        flat = out[b].flatten().clone()
        flat[u] = xu
        out[b] = flat.view_as(out[b])
    return out


def sample_images(model: Gaussian, n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    cov = torch.linalg.inv(model.precision)
    z = torch.randn(n, cov.shape[0], generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    return (model.mean + z).clamp(0, 1).view(n, 1, SIDE, SIDE)


@pytest.mark.claim("inpainting/index.md#eq-1", "inpainting/index.md#eq-5")
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_ascent_reaches_gaussian_conditional_mean(optimizer):
    """docs/inpainting/index.md eq. (1) with eq. (5): the ascent's limit is the conditional mean."""
    model = make_gaussian(0)
    y = sample_images(model, 3, seed=1)
    known = centre_square_mask(SIDE, SIDE, 2)
    exact = conditional_mean(model, y, known.expand(3, 1, SIDE, SIDE))
    hole = exact[~known.expand_as(exact)]
    assert bool(((hole > 0.05) & (hole < 0.95)).all()), "test premise: the maximiser is inside the box"
    lam_max = torch.linalg.eigvalsh(model.precision).max().item()
    lr = 0.01 if optimizer == "adam" else 1.0 / lam_max
    result = inpaint(model, y, known, optimizer=optimizer, lr=lr, num_steps=1000, tol=None, init="zeros")
    torch.testing.assert_close(result.images, exact, atol=1e-5, rtol=0)


@pytest.mark.claim("inpainting/index.md#eq-1")
def test_ascent_solves_box_constrained_problem():
    """docs/inpainting/index.md eq. (1): with the unconstrained maximiser outside [0, 1], the result is
    the bound-constrained maximiser (reference: scipy's L-BFGS-B on the same quadratic)."""
    model = make_gaussian(2, scale=0.05, mean_range=(-0.6, 1.6))
    y = sample_images(model, 2, seed=3)
    known = random_pixel_mask((2, 1, SIDE, SIDE), 0.5, torch.Generator().manual_seed(4))
    result = inpaint(model, y, known, optimizer="adam", lr=0.01, num_steps=1000, tol=None)
    lam, mu = model.precision.numpy(), model.mean.numpy()
    for b in range(2):
        k = known[b].flatten().numpy()
        yk = y[b].flatten().numpy()

        def neg_log_p(xu, k=k, yk=yk):
            x = yk.copy()
            x[~k] = xu
            z = x - mu
            return 0.5 * z @ lam @ z, (lam @ z)[~k]

        ref = minimize(
            neg_log_p,
            np.full((~k).sum(), 0.5),
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, 1.0)] * int((~k).sum()),
            options={"ftol": 1e-15, "gtol": 1e-12},
        )
        got = result.images[b].flatten().numpy()[~k]
        assert ((ref.x == 0) | (ref.x == 1)).any(), "test premise: some bound is active"
        np.testing.assert_allclose(got, ref.x, atol=1e-5)


@pytest.mark.claim("inpainting/index.md#eq-2", "inpainting/index.md#eq-3")
def test_every_iterate_is_feasible():
    """docs/inpainting/index.md eq. (3): after every step the known pixels are exact and all pixels lie
    in [0, 1] (a large step pushes far outside the box before the projection)."""
    model = make_gaussian(5, mean_range=(-2.0, 3.0))
    y = sample_images(model, 4, seed=6)
    known = random_pixel_mask((4, 1, SIDE, SIDE), 0.6, torch.Generator().manual_seed(7))
    inpaint(model, y, known, optimizer="sgd", lr=1.0, num_steps=25, schedule="constant", tol=None)
    assert len(model.calls) == 26
    for x in model.calls:
        assert torch.equal(x[known], y[known])
        assert bool(((x >= 0) & (x <= 1)).all())


@pytest.mark.claim("inpainting/index.md#eq-4")
def test_small_step_never_decreases_log_likelihood():
    """docs/inpainting/index.md eq. (4): projected gradient ascent with step 1/L on an L-smooth concave
    objective is monotone."""
    model = make_gaussian(8)
    y = sample_images(model, 5, seed=9)
    known = centre_square_mask(SIDE, SIDE, 2)
    lr = 1.0 / torch.linalg.eigvalsh(model.precision).max().item()
    result = inpaint(model, y, known, optimizer="sgd", lr=lr, num_steps=200, schedule="constant", tol=None)
    steps = result.log_prob.diff(dim=0)
    assert bool((steps >= -1e-12).all())
    assert bool((result.log_prob[-1] > result.log_prob[0]).all())


@pytest.mark.claim("inpainting/index.md#eq-4")
def test_batch_equals_one_image_at_a_time():
    """docs/inpainting/index.md: images of a batch do not interact, stopping rule included."""
    model = make_gaussian(10)
    y = sample_images(model, 6, seed=11)
    known = random_pixel_mask((6, 1, SIDE, SIDE), 0.4, torch.Generator().manual_seed(12))
    kwargs = {"optimizer": "adam", "lr": 0.02, "num_steps": 400, "tol": 1e-6, "patience": 10}
    batch = inpaint(model, y, known, **kwargs)
    assert len(set(batch.num_steps.tolist())) > 1, "test premise: the images stop at different steps"
    for b in range(6):
        single = inpaint(model, y[b : b + 1], known[b : b + 1], **kwargs)
        torch.testing.assert_close(single.images[0], batch.images[b], atol=0, rtol=0)
        assert single.num_steps[0] == batch.num_steps[b]


@pytest.mark.claim("inpainting/index.md#errata")
def test_plain_sgd_recipe_barely_moves_pixels_of_a_weak_gradient():
    """docs/inpainting/index.md errata: 300 SGD steps of 1e-3 move a pixel by at most 0.3 * max|grad|."""
    model = make_gaussian(13, scale=50.0)  # a flat density: gradients of order 1e-2
    y = sample_images(model, 2, seed=14)
    known = centre_square_mask(SIDE, SIDE, 2)
    result = inpaint(model, y, known, **PLAIN_SGD_RECIPE)
    hole = ~known.expand_as(y)
    assert result.images[hole].abs().max() < 0.05


@pytest.mark.claim("inpainting/conditional-mean.md#eq-8")
def test_langevin_matches_ula_stationary_law():
    """docs/inpainting/conditional-mean.md eq. (8): on a Gaussian far from the box faces, projected Langevin
    samples the unadjusted chain's stationary law N(m, Lambda_UU^{-1} (I - eta Lambda_UU / 2)^{-1}), m = eq.
    (5). Tolerances: 4.5 standard errors of the sample mean and of the sample variance (n = 4000 chains)."""
    slow = make_gaussian(15, scale=0.0003)
    model = FastGaussian(slow.mean, slow.precision)
    y = sample_images(model, 1, seed=16)
    known = centre_square_mask(SIDE, SIDE, 2)
    u = ~known.flatten()
    lam_uu = model.precision[u][:, u]
    eta = 0.2 / torch.linalg.eigvalsh(lam_uu).max().item()
    n = 4000
    result = langevin_inpaint(
        model,
        y,
        known,
        num_chains=n,
        step_size=eta,
        num_steps=400,
        generator=torch.Generator().manual_seed(17),
    )
    samples = result.samples[:, 0].flatten(1)[:, u]
    m = conditional_mean(model, y, known.expand_as(y))[0].flatten()[u]
    eye = torch.eye(int(u.sum()), dtype=torch.float64)
    var = torch.diagonal(torch.linalg.inv(lam_uu) @ torch.linalg.inv(eye - eta * lam_uu / 2))
    assert bool(((m - 8 * var.sqrt() > 0) & (m + 8 * var.sqrt() < 1)).all()), "premise: far from faces"
    assert bool(((samples.mean(0) - m).abs() < 4.5 * (var / n).sqrt()).all())
    assert bool(((samples.var(0) - var).abs() < 4.5 * var * (2 / (n - 1)) ** 0.5).all())
    assert bool(
        torch.equal(result.samples[:, 0][:, known.expand_as(y[0])], y[0][known.expand_as(y[0])].expand(n, -1))
    )
