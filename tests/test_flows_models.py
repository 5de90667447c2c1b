"""The models (NICE, Glow, the 2-D flow), base distributions, bits/dim and checkpoints.
Pages: docs/flows/index.md (change of variables (CV), bits per dimension (BPD)) and
docs/flows/log-determinants.md (LD)."""

from __future__ import annotations

import io
import math

import pytest
import torch

from dnnf.flows import (
    ActNorm,
    StandardLogistic,
    StandardNormal,
    bits_per_dim,
    build_model,
    density_grid_2d,
    flow_2d,
    glow_mnist,
    jacobian_logabsdet,
    nice_mnist,
)

F64 = torch.float64
SMALL_GLOWS = {
    "affine_lu": dict(conv="lu", coupling="affine"),
    "additive_dense": dict(conv="dense", coupling="additive"),
    "conditional_lu": dict(conv="lu", coupling="conditional"),
}


def _perturb(model: torch.nn.Module, std: float, seed: int = 1) -> None:
    """Move the zero-initialised output layers away from zero so the couplings are not the identity."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(std * torch.randn(p.shape, generator=g, dtype=p.dtype))


def _pixels(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g, dtype=F64)


def _small_glow(**kw) -> torch.nn.Module:
    return glow_mnist(image_shape=(1, 8, 8), num_levels=2, steps_per_level=2, hidden_channels=8, **kw)


@pytest.mark.claim("flows/index.md#eq-sum", "flows/log-determinants.md#eq-ld", note="for whole models")
@pytest.mark.parametrize("variant", sorted(SMALL_GLOWS))
def test_small_glow_logdet_matches_autograd(variant):
    """docs/flows/log-determinants.md (LD) for a whole multi-scale Glow (1x8x8, two levels, every coupling
    and 1x1-conv kind): returned log-det = autograd log|det J|, float64, to 1e-8."""
    model = _small_glow(**SMALL_GLOWS[variant]).double()
    x = _pixels((2, 1, 8, 8))
    model.log_prob(x)  # ActNorm initialisation
    _perturb(model, 0.05)
    _, logdet = model.transform(x)
    torch.testing.assert_close(logdet, jacobian_logabsdet(model.transform, x), atol=1e-8, rtol=0)
    torch.testing.assert_close(model.transform.inverse(model.transform(x)[0]), x, atol=1e-9, rtol=0)


@pytest.mark.claim("flows/index.md#eq-sum", "flows/log-determinants.md#eq-ld", note="for whole models")
@pytest.mark.slow
def test_full_nice_784_logdet_matches_autograd():
    """docs/flows/log-determinants.md (LD) for the full 784-dimensional NICE (default size, float64):
    returned log-det = log|det| of the 784 x 784 autograd Jacobian, to 1e-7."""
    model = nice_mnist().double()
    x = _pixels((1, 1, 28, 28))
    model.log_prob(_pixels((8, 1, 28, 28), seed=1))  # ActNorm initialisation on a batch
    _perturb(model, 0.01)
    _, logdet = model.transform(x)
    torch.testing.assert_close(logdet, jacobian_logabsdet(model.transform, x), atol=1e-7, rtol=0)
    torch.testing.assert_close(model.transform.inverse(model.transform(x)[0]), x, atol=1e-9, rtol=0)


@pytest.mark.claim("flows/index.md#eq-sum", note="for a whole model")
def test_small_nice_logdet_matches_autograd():
    """docs/flows/log-determinants.md (LD) for NICE on 1x4x4 images (float64), to 1e-9."""
    model = nice_mnist(image_shape=(1, 4, 4), hidden=16, num_hidden_layers=2).double()
    x = _pixels((3, 1, 4, 4))
    model.log_prob(x)
    _perturb(model, 0.1)
    reference = jacobian_logabsdet(model.transform, x)
    torch.testing.assert_close(model.transform(x)[1], reference, atol=1e-9, rtol=0)


@pytest.mark.claim("flows/index.md#thm-1", "flows/index.md#eq-cv")
def test_log_prob_is_change_of_variables():
    """docs/flows/index.md (CV): log p_X(x) = log p_Z(f(x)) + log|det J_f(x)| for both MNIST models."""
    for model in (_small_glow().double(), nice_mnist(image_shape=(1, 4, 4), hidden=8).double()):
        x = _pixels((2, *model.config["kwargs"]["image_shape"]))
        z, logdet = model.transform(x)
        torch.testing.assert_close(model.log_prob(x), model.base.log_prob(z) + logdet, atol=0, rtol=0)


def test_default_models_shapes_and_samples():
    """The default NICE and Glow take (B, 1, 28, 28) in [0, 1], return (B,) log-densities, and sample
    finite images of that shape that log_prob accepts; the seed fixes the initial parameters."""
    x = _pixels((2, 1, 28, 28)).float()
    for make in (nice_mnist, glow_mnist):
        model, again = make(), make()
        for (key, p), q in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
            torch.testing.assert_close(p, q, atol=0, rtol=0, msg=key)
        assert model.log_prob(x).shape == (2,)
        with torch.no_grad():
            s = model.sample(3, generator=torch.Generator().manual_seed(0))
        assert s.shape == (3, 1, 28, 28) and torch.isfinite(s).all()
        assert torch.isfinite(model.log_prob(s)).all()  # samples may leave [0, 1] slightly; still scored


@pytest.mark.claim("flows/index.md#glow-actnorm-and-invertible-1x1-convolutions", note="ActNorm's saved flag")
@pytest.mark.parametrize("make", [nice_mnist, glow_mnist], ids=["nice", "glow"])
def test_checkpoint_round_trip_without_reinitialisation(make):
    """A state_dict saved after ActNorm's initialisation and loaded into a freshly built model gives
    identical log_prob (ActNorm included), and the loaded model is not re-initialised by its first
    batch (the ``initialized`` flag travels in the state_dict)."""
    kw = dict(image_shape=(1, 8, 8))
    model = make(**kw, hidden=16) if make is nice_mnist else make(**kw, hidden_channels=8)
    model.log_prob(_pixels((4, 1, 8, 8)).float())
    _perturb(model, 0.05)
    buffer = io.BytesIO()
    torch.save({"config": model.config, "state_dict": model.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    fresh = build_model(saved["config"])
    fresh.load_state_dict(saved["state_dict"])
    assert all(bool(m.initialized) for m in fresh.modules() if isinstance(m, ActNorm))
    # a first batch with a very different distribution would move ActNorm if it re-initialised
    first = (0.5 * _pixels((4, 1, 8, 8), seed=3)).float()
    torch.testing.assert_close(fresh.log_prob(first), model.log_prob(first), atol=0, rtol=0)
    for key, value in saved["state_dict"].items():
        torch.testing.assert_close(fresh.state_dict()[key], value, atol=0, rtol=0, msg=key)
    # negative control: a fresh, unloaded model initialises on this batch and disagrees
    assert not torch.allclose(build_model(saved["config"]).log_prob(first), model.log_prob(first))


def test_checkpoint_from_another_architecture_is_refused():
    """Loading NICE weights into a Glow fails loudly; unknown names and kwargs raise ValueError."""
    glow = _small_glow()
    nice = nice_mnist(image_shape=(1, 8, 8), hidden=8)
    with pytest.raises(RuntimeError, match="state_dict"):
        glow.load_state_dict(nice.state_dict())
    with pytest.raises(ValueError, match="unknown model name"):
        build_model({"name": "realnvp", "kwargs": {}})
    with pytest.raises(ValueError, match="does not fit"):
        build_model({"name": "nice_mnist", "kwargs": {"num_levels": 2}})
    with pytest.raises(ValueError, match="divisible by 2\\*\\*num_levels"):
        glow_mnist(num_levels=3)
    assert build_model({"name": "glow_mnist", "kwargs": {"image_shape": [1, 8, 8]}}).config["kwargs"][
        "image_shape"
    ] == (1, 8, 8)


@pytest.mark.claim(
    "flows/index.md#eq-cv",
    note="a 2-D flow's density integrates to 1 on a grid, and fails to without the log-determinant",
)
@pytest.mark.parametrize(("seed", "lim"), [(2, 7.0), (0, 7.0)], ids=["inside", "truncated"])
def test_flow_2d_density_integrates_to_one(seed, lim):
    """docs/flows/index.md (CV): a randomly initialised, clearly non-Gaussian 2-D flow's density integrates
    to 1: the trapezoid integral over [-lim, lim]^2 plus the mass outside the square (the fraction of
    n = 20,000 model samples outside it) equals 1. Tolerance: 4 binomial standard errors of that fraction,
    plus 2e-3 for the trapezoid rule (h <= 0.035). "truncated" puts several percent of the mass outside the
    square (seed 0), so both terms matter. Dropping the log-det term (negative control) is off by more
    than 0.05."""
    model = flow_2d(num_couplings=6, hidden=32, init_scale=3.0, seed=seed).double()
    xs, ys, density = density_grid_2d(model, lim=lim, num_points=401)
    integral = torch.trapezoid(torch.trapezoid(density, ys, dim=1), xs).item()
    n = 20_000
    with torch.no_grad():
        samples = model.sample(n, generator=torch.Generator().manual_seed(0))
    outside = (samples.abs() > lim).any(dim=1).double().mean().item()
    se = math.sqrt(max(outside * (1 - outside), 1 / n) / n)
    assert abs(integral + outside - 1.0) < 4 * se + 2e-3
    if seed == 0:
        assert outside > 0.01  # the truncated case really does leave mass outside the grid
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    with torch.no_grad():
        z, _ = model.transform(torch.stack([gx.reshape(-1), gy.reshape(-1)], 1))
        wrong = model.base.log_prob(z).exp().reshape(density.shape)
    assert abs(torch.trapezoid(torch.trapezoid(wrong, ys, dim=1), xs).item() + outside - 1.0) > 0.05


@pytest.mark.claim("flows/index.md#change-of-variables", note="the base densities")
def test_base_distributions_match_torch_distributions():
    """docs/flows/index.md: log-densities of the bases equal torch.distributions' (summed over the event),
    and their samples have the right mean and variance within 4 standard errors (n = 20,000; the SE of the
    sample variance uses the fourth moment: 3 sigma^4 normal, 4.2 sigma^4 logistic)."""
    z = torch.randn(5, 3, 2, dtype=F64) * 3
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64))
    torch.testing.assert_close(StandardNormal((3, 2)).log_prob(z), normal.log_prob(z).sum((1, 2)))
    logistic = torch.distributions.TransformedDistribution(
        torch.distributions.Uniform(torch.tensor(0.0, dtype=F64), torch.tensor(1.0, dtype=F64)),
        [torch.distributions.SigmoidTransform().inv],
    )
    torch.testing.assert_close(StandardLogistic((3, 2)).log_prob(z), logistic.log_prob(z).sum((1, 2)))
    n = 20_000
    for base, var, mu4 in ((StandardNormal(1), 1.0, 3.0), (StandardLogistic(1), math.pi**2 / 3, 4.2)):
        s = base.sample(n, generator=torch.Generator().manual_seed(0), dtype=F64)[:, 0]
        assert s.shape == (n,)
        assert abs(s.mean().item()) < 4 * math.sqrt(var / n)
        assert abs(s.var().item() - var) < 4 * var * math.sqrt((mu4 - 1) / n)
    with pytest.raises(ValueError, match="shape"):
        StandardNormal((3, 2)).log_prob(torch.zeros(4, 6))


@pytest.mark.claim("flows/index.md#eq-bpd")
def test_bits_per_dim_convention():
    """docs/flows/index.md, equation (BPD): bpd = -(log p(x) - D log 256)/(D log 2). Exact checks: the
    uniform density on [0,1]^D gives 8 bits; a density constant on each of the 256 bins with masses P(k)
    gives exactly -log2 P(k) / D (the dequantisation bound is tight for it)."""
    torch.testing.assert_close(bits_per_dim(torch.zeros(3)), torch.full((3,), 8.0))
    probs = torch.tensor([0.5, 0.25, 0.125], dtype=F64)  # masses of three pixel values, D = 1
    log_p_x = torch.log(256 * probs)  # the piecewise-constant density in [0, 1] on those bins
    torch.testing.assert_close(bits_per_dim(log_p_x, num_dims=1), -torch.log2(probs))
    d = 784
    lp = torch.tensor([-1000.0], dtype=F64)
    expected = (1000.0 + d * math.log(256)) / (d * math.log(2))
    torch.testing.assert_close(bits_per_dim(lp, d), torch.tensor([expected], dtype=F64))
    with pytest.raises(ValueError, match="num_dims"):
        bits_per_dim(lp, num_dims=0)
    with pytest.raises(TypeError, match="log_prob_x"):
        bits_per_dim(-1000.0)


def test_models_reject_wrong_input_shapes():
    """Bad input to a whole model gets a clear error naming the expected shape, not a deep torch error."""
    nice, glow = nice_mnist(image_shape=(1, 8, 8), hidden=8), _small_glow()
    with pytest.raises(ValueError, match=r"\(batch, 1, 8, 8\)"):
        nice.log_prob(torch.rand(2, 64))  # the reference solution's flattened input
    with pytest.raises(ValueError, match=r"\(batch, C, H, W\)"):
        glow.log_prob(torch.rand(2, 8, 8))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        glow.log_prob(255 * torch.rand(2, 1, 8, 8))  # raw 8-bit pixels instead of [0, 1]


@pytest.mark.claim(
    "inpainting/smoothed-models.md#eq-13",
    note="models without the logit take any real values",
)
@pytest.mark.parametrize("make", ["nice", "glow"])
def test_models_without_logit_take_any_real_values(make):
    """logit_alpha=None (the inpainting chapter's smoothed models) leaves the logit out: values outside
    [0, 1] are accepted, the log-det still matches autograd and the config rebuilds the same model."""
    if make == "nice":
        model = nice_mnist(image_shape=(1, 4, 4), hidden=16, num_hidden_layers=2, logit_alpha=None).double()
        x = 3 * _pixels((3, 1, 4, 4)) - 1
    else:
        model = _small_glow(logit_alpha=None).double()
        x = 3 * _pixels((2, 1, 8, 8)) - 1
    assert x.min() < 0 and x.max() > 1
    model.log_prob(x)
    _perturb(model, 0.05)
    torch.testing.assert_close(
        model.transform(x)[1], jacobian_logabsdet(model.transform, x), atol=1e-8, rtol=0
    )
    assert "LogitTransform" not in repr(model)
    rebuilt = build_model(model.config).double()
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt.log_prob(x), model.log_prob(x), atol=0, rtol=0)
