"""Mean fill and diffusion (neighbour-average) fill, docs/inpainting/index.md section Baselines."""

from __future__ import annotations

import torch

from dnnf.inpainting import centre_square_mask, diffusion_fill, half_mask, mean_fill, random_pixel_mask


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


def test_diffusion_fill_reproduces_a_ramp():
    """docs/inpainting/index.md eq. (7): a linear ramp in x is discrete-harmonic with zero flux at the
    top and bottom, so filling its middle columns from the first and last gives the ramp back."""
    ramp = torch.linspace(0.1, 0.9, 28, dtype=torch.float64).expand(1, 1, 28, 28).clone()
    known = torch.zeros(28, 28, dtype=torch.bool)
    known[:, 0] = known[:, -1] = True
    torch.testing.assert_close(
        diffusion_fill(ramp, known, tol=1e-12, max_iters=100_000), ramp, atol=1e-9, rtol=0
    )


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
    filled = diffusion_fill(image, known, tol=1e-12, max_iters=100_000)
    torch.testing.assert_close(filled[0, 0][~known], exact, atol=1e-9, rtol=0)


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
