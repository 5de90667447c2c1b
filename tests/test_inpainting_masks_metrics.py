"""Masks, argument checks and hole-only metrics of the inpainting chapter (docs/inpainting/index.md)."""

from __future__ import annotations

import math

import pytest
import torch

from dnnf.inpainting import (
    MASK_KINDS,
    centre_square_mask,
    diffusion_fill,
    expand_mask,
    half_mask,
    make_mask,
    mse,
    psnr,
    random_pixel_mask,
    ssim,
)


@pytest.mark.claim("inpainting/index.md", note="the masks, and input checks")
def test_mask_kinds_hide_what_their_name_says():
    """docs/inpainting/index.md, section Masks: True = known; the name says what is missing."""
    assert int((~centre_square_mask()).sum()) == 14 * 14
    assert not bool(centre_square_mask()[14, 14]) and bool(centre_square_mask()[0, 0])
    for side, hole in [
        ("left", (slice(None), slice(0, 14))),
        ("right", (slice(None), slice(14, 28))),
        ("top", (slice(0, 14), slice(None))),
        ("bottom", (slice(14, 28), slice(None))),
    ]:
        known = half_mask(side)
        assert not bool(known[hole].any()) and int(known.sum()) == 392
    assert torch.equal(half_mask("left") | half_mask("right"), torch.ones(28, 28, dtype=torch.bool))
    for kind in MASK_KINDS:
        assert make_mask(kind, generator=torch.Generator().manual_seed(0)).dtype == torch.bool


@pytest.mark.claim("inpainting/index.md", note="the masks, and input checks")
def test_random_mask_has_exact_count_and_is_reproducible():
    """docs/inpainting/index.md, section Masks: exactly round(f * H * W) missing pixels per image."""
    known = random_pixel_mask((5, 1, 28, 28), 0.3, torch.Generator().manual_seed(1))
    assert (~known).flatten(1).sum(dim=1).tolist() == [round(0.3 * 784)] * 5
    assert not torch.equal(known[0], known[1])
    again = random_pixel_mask((5, 1, 28, 28), 0.3, torch.Generator().manual_seed(1))
    assert torch.equal(known, again)


@pytest.mark.claim("inpainting/index.md", note="the masks, and input checks")
def test_make_mask_draws_one_random_mask_per_digit():
    """docs/inpainting/index.md, error bars with masks drawn per digit: make_mask("random", num_images=B)
    gives B independent masks with the exact count, the block kinds stay one shared mask, and a per-digit mask
    is accepted by the methods (it broadcasts against the batch)."""
    known = make_mask("random", generator=torch.Generator().manual_seed(0), num_images=4)
    assert known.shape == (4, 1, 28, 28)
    assert (~known).flatten(1).sum(dim=1).tolist() == [392] * 4
    assert len({tuple(k.flatten().tolist()) for k in known}) == 4
    assert torch.equal(make_mask("left", num_images=4), half_mask("left"))
    images = torch.rand(4, 1, 28, 28)
    assert torch.equal(expand_mask(known, images), known)
    filled = diffusion_fill(images, known)
    assert torch.equal(filled[known], images[known])
    with pytest.raises(ValueError, match="num_images"):
        make_mask("random", num_images=0)


@pytest.mark.claim("inpainting/index.md", note="the masks, and input checks")
@pytest.mark.parametrize(
    ("known", "error", "match"),
    [
        (torch.ones(28, 28), TypeError, "boolean"),
        (torch.ones(27, 28, dtype=torch.bool), ValueError, "spatial size"),
        (torch.ones(3, 1, 28, 28, dtype=torch.bool), ValueError, "broadcast"),
        (torch.ones(28, 28, dtype=torch.bool), ValueError, "nothing to inpaint"),
        (torch.zeros(28, 28, dtype=torch.bool), ValueError, "nothing to condition on"),
    ],
)
def test_bad_masks_are_rejected(known, error, match):
    """docs/inpainting/index.md, section Masks: mask shape and content are checked."""
    with pytest.raises(error, match=match):
        expand_mask(known, torch.rand(2, 1, 28, 28))


@pytest.mark.claim("inpainting/index.md", note="the masks, and input checks")
def test_bad_images_are_rejected():
    """docs/inpainting/index.md: images must be floats in [0, 1] of shape (B, C, H, W)."""
    known = centre_square_mask()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        diffusion_fill(torch.full((1, 1, 28, 28), 1.5), known)
    with pytest.raises(TypeError, match="floating"):
        diffusion_fill(torch.zeros(1, 1, 28, 28, dtype=torch.uint8), known)
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        diffusion_fill(torch.rand(28, 28), known)
    with pytest.raises(ValueError, match="finite"):
        diffusion_fill(torch.full((1, 1, 28, 28), float("nan")), known)


@pytest.mark.claim("inpainting/index.md#eq-6")
def test_hole_mse_and_psnr_closed_form():
    """docs/inpainting/index.md eq. (6): MSE_U averages over the hole only, PSNR_U = 10 log10(R^2/MSE_U)."""
    target = torch.full((2, 1, 28, 28), 0.5)
    recon = target.clone()
    known = half_mask("left")
    recon[..., :14] += torch.tensor([0.1, 0.2]).view(2, 1, 1, 1)
    torch.testing.assert_close(mse(recon, target, known), torch.tensor([0.01, 0.04]))
    torch.testing.assert_close(psnr(recon, target, known), torch.tensor([20.0, 10 * math.log10(25.0)]))
    assert torch.isinf(psnr(target, target, known)).all()


@pytest.mark.claim("inpainting/index.md#eq-6")
@pytest.mark.parametrize("kind", ["left", "centre", "random"])
def test_whole_image_psnr_is_inflated_by_the_known_pixels(kind):
    """docs/inpainting/index.md eq. (6): with exact known pixels, PSNR = PSNR_U + 10 log10(d / m)
    (+3.01 dB for a half mask, +6.02 dB for the centre quarter)."""
    g = torch.Generator().manual_seed(2)
    target = torch.rand(4, 1, 28, 28, generator=g)
    known = make_mask(kind, generator=g)
    recon = torch.where(known, target, torch.rand(4, 1, 28, 28, generator=g))
    m = int((~known).sum())
    torch.testing.assert_close(psnr(recon, target), psnr(recon, target, known) + 10 * math.log10(784 / m))


@pytest.mark.claim("inpainting/index.md#measuring-the-result", note="SSIM")
def test_ssim_identity_and_constant_images():
    """docs/inpainting/index.md, section Metrics: SSIM(x, x) = 1; for constant images a and b the
    variances vanish and SSIM = (2ab + C1) / (a^2 + b^2 + C1) with C1 = (0.01 R)^2."""
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(ssim(x, x), torch.ones(3, dtype=torch.float64))
    a, b, c1 = 0.3, 0.7, 0.01**2
    got = ssim(torch.full((1, 1, 28, 28), a), torch.full((1, 1, 28, 28), b))
    torch.testing.assert_close(
        got, torch.tensor([(2 * a * b + c1) / (a * a + b * b + c1)], dtype=torch.float64)
    )
    noisy = (x + 0.2 * torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(4))).clamp(0, 1)
    assert bool((ssim(noisy, x) < 0.9).all())
