"""What a flow's likelihood means on discrete pixels (docs/flows/index.md, 'Dequantisation, the logit
transform and bits per dimension'): the mass the logit model leaves outside [0, 1]^D, the importance-
weighted bound, and samples that the model can score."""

from __future__ import annotations

import math

import pytest
import torch

from dnnf.data import dequantize
from dnnf.flows import (
    ActNorm,
    Compose,
    LogitTransform,
    NormalizingFlow,
    StandardNormal,
    bits_per_dim,
    importance_weighted_bits_per_dim,
)
from dnnf.training import pretrained_checkpoint_path

F64 = torch.float64
ALPHA = 0.05


def _two_pixel_model(scale: float = 1.0, centre: float = 0.5) -> NormalizingFlow:
    """logit, then z = (y - logit(p(centre))) * scale per pixel, normal base: closed-form density."""
    actnorm = ActNorm(1)
    with torch.no_grad():
        actnorm.bias.fill_(
            -math.log((ALPHA + (1 - 2 * ALPHA) * centre) / (1 - ALPHA - (1 - 2 * ALPHA) * centre))
        )
        actnorm.log_scale.fill_(math.log(scale))
        actnorm.initialized.fill_(True)
    return NormalizingFlow(Compose(LogitTransform(ALPHA), actnorm), StandardNormal((1, 1, 2))).double()


def _cdf(model: NormalizingFlow, x: torch.Tensor) -> torch.Tensor:
    """Per-pixel CDF Phi(z(x)) of the product model (each coordinate maps monotonically to z)."""
    z, _ = model.transform(x.reshape(-1, 1, 1, 2))
    return torch.special.ndtr(z.reshape(x.shape))


def _exact_log_pmf(model: NormalizingFlow, images: torch.Tensor) -> torch.Tensor:
    """log P(k) = sum over pixels of log(Phi(z((k+1)/256)) - Phi(z(k/256)))."""
    k = images.to(F64).reshape(-1, 2)
    return torch.log(_cdf(model, (k + 1) / 256) - _cdf(model, k / 256)).sum(1)


@pytest.mark.claim(
    "flows/index.md#dequantization-the-logit-transform-and-bits-per-dimension",
    note="$Z < 1$ with the logit ($0.99353$ for two pixels), by quadrature of `log_prob` and in closed form",
)
def test_logit_model_leaves_mass_outside_the_unit_cube():
    """docs/flows/index.md, 'Bits per dimension': with the logit (alpha = 0.05) the density lives on
    (-0.0556, 1.0556)^D, so sum_k P(k) = int_[0,1]^D p_X < 1: for the 2-pixel logit + standard normal
    model it is (2 Phi(logit 0.95) - 1)^2 = 0.99353, by midpoint quadrature of log_prob and in closed
    form; over the whole domain the density integrates to 1."""
    model = _two_pixel_model()
    closed_form = (2 * torch.special.ndtr(torch.tensor(math.log(0.95 / 0.05), dtype=F64)) - 1) ** 2
    assert float(closed_form) == pytest.approx(0.99353, abs=1e-5)
    levels = torch.arange(256)
    grid = torch.cartesian_prod(levels, levels).to(torch.uint8).reshape(-1, 1, 1, 2)
    with torch.no_grad():
        pmf_total = float(_exact_log_pmf(model, grid).exp().sum())
    assert pmf_total == pytest.approx(float(closed_form), rel=1e-10)
    n = 1200
    for lo, hi, expected in ((0.0, 1.0, float(closed_form)), (-ALPHA / 0.9, 1 + ALPHA / 0.9, 1.0)):
        h = (hi - lo) / n
        mid = lo + h * (torch.arange(n, dtype=F64) + 0.5)
        pts = torch.cartesian_prod(mid, mid).reshape(-1, 1, 1, 2)
        with torch.no_grad():
            mass = float(model.log_prob(pts).exp().sum()) * h * h
        assert mass == pytest.approx(expected, abs=2e-3)
    assert float(closed_form) < 0.995


@pytest.mark.claim("flows/index.md#eq-iw", note="against the exact $P(k)$ of a 2-pixel model")
def test_importance_weighted_bound_with_one_sample_is_the_usual_bound():
    """docs/flows/index.md, (IW): S = 1 is bits_per_dim of one dequantised copy (same noise)."""
    model = _two_pixel_model(scale=30.0)
    images = torch.tensor([[[[128, 131]]], [[[126, 129]]]], dtype=torch.uint8)
    iw = importance_weighted_bits_per_dim(model, images, 1, generator=torch.Generator().manual_seed(3))
    x = dequantize(images, generator=torch.Generator().manual_seed(3)).double()
    with torch.no_grad():
        torch.testing.assert_close(iw, bits_per_dim(model.log_prob(x), num_dims=2), rtol=0, atol=1e-9)


@pytest.mark.claim("flows/index.md#eq-iw", note="against the exact $P(k)$ of a 2-pixel model")
@pytest.mark.slow
def test_importance_weighted_bound_tightens_and_converges_to_the_code_length():
    """docs/flows/index.md, (IW): for a 2-pixel model whose density varies within a pixel bin, the mean
    over 400 replicates of bpd_S decreases with S (tolerance 4 standard errors of the differences) and,
    at S = 2,000, is within 0.02 bits/dim of the exact -log2 P(k)/D, which every bound exceeds."""
    model = _two_pixel_model(scale=100.0, centre=128.3 / 256)
    images = torch.tensor([[[[128, 128]]], [[[127, 129]]]], dtype=torch.uint8)
    exact = -_exact_log_pmf(model, images) / (2 * math.log(2))
    g = torch.Generator().manual_seed(0)
    reps = 400
    by_s = {
        s: torch.stack([importance_weighted_bits_per_dim(model, images, s, g) for _ in range(reps)])
        for s in (1, 4, 32)
    }
    for small, large in ((1, 4), (4, 32)):
        diff = by_s[small] - by_s[large]
        se = diff.std(0) / math.sqrt(reps)
        assert torch.all(diff.mean(0) > -4 * se)
    assert torch.all(by_s[1].mean(0) - exact > 0.01)  # the one-sample bound is visibly loose here
    assert torch.all(by_s[32].mean(0) >= exact - 1e-9)
    gain = by_s[1] - by_s[32]  # strictly tighter where the bin's density varies most (second image)
    assert gain.mean(0)[1] > 4 * gain.std(0)[1] / math.sqrt(reps)
    far = torch.stack([importance_weighted_bits_per_dim(model, images, 2000, g) for _ in range(5)]).mean(0)
    assert torch.all((far - exact).abs() < 0.02)
    assert (far - exact)[1] < 0.5 * (by_s[32].mean(0) - exact)[1]


@pytest.mark.claim(
    "flows/index.md#dequantization-the-logit-transform-and-bits-per-dimension",
    note="samples the model can score",
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("alpha", [0.05, 0.3, 1e-3])
def test_logit_inverse_never_leaves_the_domain(dtype, alpha):
    """docs/flows/index.md, 'Logit transform': forward(inverse(y)) is finite for every y, however large
    (float32's sigmoid rounds to 1 beyond y = 16.6, which put samples on the domain's edge); the clamp
    leaves inverse exact on the image of [0, 1]."""
    layer = LogitTransform(alpha)
    y = torch.cat(
        [torch.linspace(-60, 60, 100_001, dtype=dtype), torch.tensor([1e4, -1e4, 16.7, 17, 88], dtype=dtype)]
    )
    x = layer.inverse(y.reshape(-1, 1))
    y_back, logdet = layer(x)
    assert torch.isfinite(y_back).all() and torch.isfinite(logdet).all()
    pixels = torch.linspace(0, 1, 1001, dtype=dtype).reshape(-1, 1)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(layer.inverse(layer(pixels)[0]), pixels, rtol=0, atol=tol)


@pytest.mark.claim(
    "flows/index.md#dequantization-the-logit-transform-and-bits-per-dimension",
    note="samples the model can score",
)
def test_samples_of_a_model_with_large_logits_can_be_scored():
    """docs/flows/index.md, 'Logit transform': a float32 model whose inverse amplifies the latent 40-fold
    (pixels at logits far beyond 17) samples images that its own log_prob scores finitely."""
    actnorm = ActNorm(1)
    with torch.no_grad():
        actnorm.log_scale.fill_(math.log(1 / 40))
        actnorm.initialized.fill_(True)
    model = NormalizingFlow(Compose(LogitTransform(ALPHA), actnorm), StandardNormal((1, 4, 4)))
    with torch.no_grad():
        x = model.sample(500, generator=torch.Generator().manual_seed(0))
        assert (x.amax((1, 2, 3)) > 1.05).float().mean() > 0.9  # most samples touch the far tail
        assert torch.isfinite(model.log_prob(x)).all()


@pytest.mark.claim(
    "flows/index.md#dequantization-the-logit-transform-and-bits-per-dimension",
    note="samples the model can score",
)
@pytest.mark.slow
@pytest.mark.skipif(not pretrained_checkpoint_path("glow").is_file(), reason="the trained Glow is not cached")
def test_trained_glow_scores_its_own_samples():
    """docs/flows/index.md, 'Logit transform': 500 float32 samples of the cached trained Glow (seed 0), of
    which about one in ten has a pixel at a logit beyond 14.56, all get a finite log_prob."""
    from dnnf.training import load_or_train_mnist_flow

    model = load_or_train_mnist_flow("glow", progress=False)
    with torch.no_grad():
        x = model.sample(500, generator=torch.Generator().manual_seed(0))
        assert torch.isfinite(model.log_prob(x)).all()
