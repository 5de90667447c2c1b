"""Mean fill, diffusion (neighbour-average) fill and the KDE conditional mean (docs/inpainting/)."""

from __future__ import annotations

import pytest
import torch

from dnnf.inpainting import (
    centre_square_mask,
    diffusion_fill,
    half_mask,
    kde_conditional_mean,
    mean_fill,
    random_pixel_mask,
)


@pytest.mark.claim("inpainting/index.md#baselines", note="mean fill")
def test_mean_fill_uses_known_pixels_or_given_mean_image():
    """docs/inpainting/index.md, Baselines: the hole gets the known pixels' mean or the mean image."""
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    known = centre_square_mask()
    filled = mean_fill(images, known)
    expected = images[:, :, known].mean(dim=-1)
    torch.testing.assert_close(filled[:, :, ~known], expected.unsqueeze(-1).expand(3, 1, 196))
    assert torch.equal(filled[:, :, known], images[:, :, known])
    mean_image = torch.linspace(0, 1, 784).view(1, 28, 28)
    assert torch.equal(
        mean_fill(images, known, mean_image)[:, :, ~known], mean_image[:, ~known].expand(3, 1, 196)
    )


@pytest.mark.claim("inpainting/index.md#eq-7")
def test_diffusion_fill_reproduces_a_ramp():
    """docs/inpainting/index.md eq. (7): a linear ramp in x is discrete-harmonic with zero flux at the
    top and bottom, so filling its middle columns from the first and last gives the ramp back."""
    ramp = torch.linspace(0.1, 0.9, 28, dtype=torch.float64).expand(1, 1, 28, 28).clone()
    known = torch.zeros(28, 28, dtype=torch.bool)
    known[:, 0] = known[:, -1] = True
    torch.testing.assert_close(
        diffusion_fill(ramp, known, tol=1e-12, num_steps=100_000), ramp, atol=1e-9, rtol=0
    )


@pytest.mark.claim("inpainting/index.md#eq-7")
def test_diffusion_fill_solves_the_discrete_laplace_equation():
    """docs/inpainting/index.md eq. (7), against a direct dense solve of the same linear system."""
    g = torch.Generator().manual_seed(1)
    side = 10
    image = torch.rand(1, 1, side, side, generator=g, dtype=torch.float64)
    known = random_pixel_mask((side, side), 0.6, g)
    # Build x = A x + b on the hole: each pixel averages its 4 neighbours, a missing neighbour
    # (outside the image) replaced by the pixel itself.
    idx = {(int(r), int(c)): i for i, (r, c) in enumerate(torch.nonzero(~known).tolist())}
    n = len(idx)
    lhs = torch.eye(n, dtype=torch.float64)
    rhs = torch.zeros(n, dtype=torch.float64)
    for (r, c), i in idx.items():
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if not (0 <= rr < side and 0 <= cc < side):
                rr, cc = r, c
            if known[rr, cc]:
                rhs[i] += 0.25 * image[0, 0, rr, cc]
            else:
                lhs[i, idx[(rr, cc)]] -= 0.25
    exact = torch.linalg.solve(lhs, rhs)
    filled = diffusion_fill(image, known, tol=1e-12, num_steps=100_000)
    torch.testing.assert_close(filled[0, 0][~known], exact, atol=1e-9, rtol=0)


@pytest.mark.claim("inpainting/index.md#eq-7")
def test_diffusion_fill_maximum_principle_and_batching():
    """docs/inpainting/index.md, Baselines: averages of known values stay within their range; a batch
    gives the fills of one image at a time (float64: up to rounding, far below the stopping tolerance)."""
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    known = half_mask("bottom")
    filled = diffusion_fill(images, known)
    for b in range(4):
        lo, hi = images[b, :, known].min(), images[b, :, known].max()
        assert bool(((filled[b] >= lo) & (filled[b] <= hi)).all())
        single = diffusion_fill(images[b : b + 1], known)[0]
        torch.testing.assert_close(single, filled[b], atol=1e-12, rtol=0)


def _joint_kde_density(x: torch.Tensor, centres: torch.Tensor, h: float) -> torch.Tensor:
    """The KDE's joint density at points x (P, d), by summing full multivariate normal densities."""
    normal = torch.distributions.MultivariateNormal(
        centres, covariance_matrix=h * h * torch.eye(centres.shape[1])
    )
    return normal.log_prob(x[:, None, :]).exp().mean(dim=1)


@pytest.mark.claim("inpainting/kde-yardstick.md#eq-11", "inpainting/kde-yardstick.md#eq-12")
def test_kde_conditional_mean_matches_numerical_integration():
    """kde.py: E[x_U | y_K] = integral of x_U p(y_K, x_U) / integral of p(y_K, x_U), by quadrature."""
    g = torch.Generator().manual_seed(0)
    train = torch.rand(7, 1, 2, 2, generator=g, dtype=torch.float64)
    image = torch.rand(1, 1, 2, 2, generator=g, dtype=torch.float64)
    known = torch.tensor([[True, True], [True, False]])
    h = 0.3
    grid = torch.linspace(-3, 4, 20_001, dtype=torch.float64)
    points = image.flatten().repeat(grid.numel(), 1)
    points[:, 3] = grid
    density = _joint_kde_density(points, train.flatten(1), h)
    expected = torch.trapezoid(grid * density, grid) / torch.trapezoid(density, grid)
    filled = kde_conditional_mean(image, known, train, bandwidth=h)
    assert torch.allclose(filled[0, 0, 1, 1], expected, atol=1e-8)
    assert torch.equal(filled[0, 0][known], image[0, 0][known])


@pytest.mark.claim("inpainting/kde-yardstick.md#eq-12")
def test_kde_limits_are_nearest_neighbour_and_mean_image():
    g = torch.Generator().manual_seed(1)
    train = torch.rand(50, 1, 6, 6, generator=g, dtype=torch.float64)
    images = torch.rand(4, 1, 6, 6, generator=g, dtype=torch.float64)
    known = half_mask("left", 6, 6)
    flat_k = known.flatten()
    distances = torch.cdist(images.flatten(1)[:, flat_k], train.flatten(1)[:, flat_k])
    nearest = train[distances.argmin(dim=1)]
    sharp = kde_conditional_mean(images, known, train, bandwidth=1e-3)
    assert torch.allclose(sharp, torch.where(known, images, nearest))
    wide = kde_conditional_mean(images, known, train, bandwidth=1e4)
    assert torch.allclose(wide, mean_fill(images, known, train.mean(dim=0)), atol=1e-9)


@pytest.mark.claim("inpainting/kde-yardstick.md", note="the KDE's batching and input checks")
def test_kde_per_image_masks_and_chunks_agree_with_one_at_a_time():
    g = torch.Generator().manual_seed(2)
    train = torch.rand(30, 1, 5, 5, generator=g, dtype=torch.float64)
    images = torch.rand(5, 1, 5, 5, generator=g, dtype=torch.float64)
    known = random_pixel_mask((5, 1, 5, 5), 0.4, torch.Generator().manual_seed(3))
    batch = kde_conditional_mean(images, known, train, bandwidth=0.5, chunk_size=2)
    for b in range(5):
        single = kde_conditional_mean(images[b : b + 1], known[b : b + 1], train, bandwidth=0.5)
        assert torch.allclose(batch[b], single[0], atol=1e-12)


@pytest.mark.claim("inpainting/kde-yardstick.md", note="the KDE's batching and input checks")
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"train_images": torch.rand(3, 1, 4, 5, dtype=torch.float64)}, "train_images must have"),
        ({"chunk_size": 0}, "chunk_size"),
    ],
)
def test_kde_rejects_bad_arguments(kwargs, match):
    args = {"train_images": torch.rand(3, 1, 4, 4, dtype=torch.float64), "bandwidth": 0.5, **kwargs}
    with pytest.raises(ValueError, match=match):
        kde_conditional_mean(torch.rand(2, 1, 4, 4, dtype=torch.float64), half_mask("top", 4, 4), **args)


@pytest.mark.claim("inpainting/smoothed-models.md#eq-14")
def test_tweedie_formula_for_a_smoothed_empirical_distribution():
    """docs/inpainting/smoothed-models.md (14): for x uniform on N training images and x~ = x + s * noise,
    E[x | x~] = x~ + s^2 grad log p_s(x~), with p_s the KDE of bandwidth s; the gradient by autograd,
    the posterior mean from the posterior weights. (With s instead of s^2 the check fails.)"""
    g = torch.Generator().manual_seed(4)
    train = torch.rand(20, 9, generator=g, dtype=torch.float64)
    s = 0.3
    noisy = (train[:5] + s * torch.randn(5, 9, generator=g, dtype=torch.float64)).requires_grad_(True)
    squared = torch.cdist(noisy, train).square()
    log_p = torch.logsumexp(-squared / (2 * s * s), dim=1)  # up to a constant
    (score,) = torch.autograd.grad(log_p.sum(), noisy)
    posterior_mean = torch.softmax(-squared.detach() / (2 * s * s), dim=1) @ train
    torch.testing.assert_close(noisy.detach() + s * s * score, posterior_mean, atol=1e-12, rtol=0)
