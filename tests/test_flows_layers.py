"""Every flow layer: returned log-det = log|det| of the full autograd Jacobian (float64), exact inverse,
and clear errors on bad input. Page: docs/flows/log-determinants.md, equation (LD) (the log-det each layer
returns) and the layer formulas in docs/flows/index.md."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dnnf.flows import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    Compose,
    ConditionalConv1x1Coupling,
    Flatten,
    InvertibleConv1x1,
    InvertibleConv1x1LU,
    LogitTransform,
    Split,
    Squeeze,
    Unsqueeze,
    conv_net,
    jacobian_logabsdet,
    mlp,
)

# float64 Jacobians of at most 72 x 72: slogdet is accurate to ~1e-13 here, so 1e-9 leaves a margin of
# four orders of magnitude while any real error in a log-det formula (at least ~1e-2) fails.
ATOL = 1e-9


def _randomize(module: nn.Module, std: float, seed: int) -> nn.Module:
    """Move every parameter away from its (often identity) initial value so the checks are not trivial."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(std * torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def _conditional() -> ConditionalConv1x1Coupling:
    return ConditionalConv1x1Coupling(6, hidden=8, generator=torch.Generator().manual_seed(3))


def _split() -> Split:
    inner = Compose(Squeeze(2), AffineCoupling(conv_net(2, 4, 8, identity_init=False)), Unsqueeze(2))
    return Split(inner, keep=1)


# (name, layer factory, input shape, input kind): "real" inputs are N(0,1), "unit" inputs lie in (0, 1).
CASES = [
    ("actnorm_image", lambda: ActNorm(3), (3, 3, 2, 2), "real"),
    ("actnorm_vector", lambda: ActNorm(6), (3, 6), "real"),
    ("conv1x1_dense", lambda: InvertibleConv1x1(4), (2, 4, 3, 3), "real"),
    ("conv1x1_plu", lambda: InvertibleConv1x1LU(4), (2, 4, 3, 3), "real"),
    ("additive_alternate", lambda: AdditiveCoupling(mlp(3, 3, 8), split="alternate"), (2, 6), "real"),
    ("additive_half_swap", lambda: AdditiveCoupling(mlp(3, 3, 8), swap=True), (2, 6), "real"),
    ("affine_image", lambda: AffineCoupling(conv_net(2, 4, 8)), (2, 4, 3, 3), "real"),
    ("affine_alternate_swap", lambda: AffineCoupling(mlp(4, 8, 8), "alternate", True), (2, 8), "real"),
    ("conditional_4d", _conditional, (2, 6, 3, 3), "real"),
    ("squeeze", lambda: Squeeze(2), (2, 2, 4, 4), "real"),
    ("unsqueeze", lambda: Unsqueeze(2), (2, 8, 2, 2), "real"),
    ("flatten", lambda: Flatten((2, 3, 3)), (2, 2, 3, 3), "real"),
    ("logit", lambda: LogitTransform(0.05), (2, 1, 3, 3), "unit"),
    ("split_multiscale", _split, (2, 2, 4, 4), "real"),
]


def _input(shape: tuple[int, ...], kind: str, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if kind == "unit":
        return torch.rand(shape, generator=g, dtype=torch.float64)
    # a non-zero mean and non-unit scale, so ActNorm's initialisation is not the identity
    return 1.5 * torch.randn(shape, generator=g, dtype=torch.float64) + 0.3


@pytest.mark.claim(
    "flows/index.md#eq-coup",
    "flows/log-determinants.md#eq-ld",
    note="every layer's log-determinant against the autograd Jacobian",
)
@pytest.mark.parametrize(("name", "make", "shape", "kind"), CASES, ids=[c[0] for c in CASES])
def test_logdet_matches_autograd_jacobian(name, make, shape, kind):
    """docs/flows/log-determinants.md, equation (LD): each layer's returned log-det equals
    log|det| of the full Jacobian (torch.func.jacrev, float64) for every sample, to 1e-9."""
    torch.manual_seed(0)
    layer = _randomize(make().double(), 0.3, seed=1)
    x = _input(shape, kind)
    layer(x)  # data-dependent initialisation (ActNorm) happens here, before the perturbation below
    _randomize(layer, 0.1, seed=2)
    _, logdet = layer(x)
    assert logdet.shape == (shape[0],)
    reference = jacobian_logabsdet(layer, x)
    torch.testing.assert_close(logdet, reference, atol=ATOL, rtol=0)
    if name not in ("squeeze", "unsqueeze", "flatten", "additive_alternate", "additive_half_swap"):
        assert logdet.abs().max() > 1e-3, "a trivial log-det would make this check vacuous"


@pytest.mark.claim("flows/index.md", note="every layer is exactly invertible")
@pytest.mark.parametrize(("name", "make", "shape", "kind"), CASES, ids=[c[0] for c in CASES])
def test_inverse_recovers_input(name, make, shape, kind):
    """docs/flows/index.md: every layer is invertible; inverse(forward(x)) = x up to rounding (float64)."""
    torch.manual_seed(0)
    layer = _randomize(make().double(), 0.3, seed=1)
    x = _input(shape, kind)
    y, _ = layer(x)
    torch.testing.assert_close(layer.inverse(y), x, atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(layer(layer.inverse(y))[0], y, atol=1e-10, rtol=1e-10)


def test_jacobian_logabsdet_on_a_linear_map():
    """The reference itself: for a dense 1x1 convolution with a known A on a 1x1 image, the Jacobian
    is A, so the reference must equal log|det A| computed by hand (A triangular)."""
    a = torch.tensor([[2.0, 5.0], [0.0, -3.0]], dtype=torch.float64)
    layer = InvertibleConv1x1(2, weight=a).double()
    x = torch.randn(3, 2, 1, 1, dtype=torch.float64)
    expected = torch.full((3,), torch.log(torch.tensor(6.0, dtype=torch.float64)).item(), dtype=torch.float64)
    torch.testing.assert_close(jacobian_logabsdet(layer, x), expected, atol=1e-12, rtol=0)


@pytest.mark.claim(
    "flows/index.md#glow-actnorm-and-invertible-1x1-convolutions",
    note="ActNorm's initialisation",
)
def test_actnorm_initialisation_standardises_first_batch():
    """docs/flows/index.md (ActNorm): after data-dependent initialisation the first batch has zero mean
    and unit variance per channel, and the ``initialized`` buffer is set."""
    x = 4.0 * torch.randn(16, 3, 5, 5, dtype=torch.float64) - 2.0
    layer = ActNorm(3).double()
    assert not bool(layer.initialized)
    y, _ = layer(x)
    assert bool(layer.initialized)
    per_channel = y.transpose(0, 1).reshape(3, -1)
    torch.testing.assert_close(per_channel.mean(1), torch.zeros(3, dtype=torch.float64), atol=1e-12, rtol=0)
    torch.testing.assert_close(
        per_channel.std(1, unbiased=False), torch.ones(3, dtype=torch.float64), atol=1e-5, rtol=0
    )
    before = layer.bias.detach().clone()
    layer(x + 10.0)  # a second batch must not re-initialise
    torch.testing.assert_close(layer.bias.detach(), before, atol=0, rtol=0)


@pytest.mark.claim("flows/index.md#coupling-layers-nice-and-realnvp", note="the stable scale")
def test_affine_coupling_scale_is_bounded():
    """docs/flows/index.md (affine coupling): the soft-clamped log-scale satisfies |l| < c even for huge
    network outputs, so the layer stays finite and invertible."""

    class Huge(nn.Module):
        def forward(self, a: torch.Tensor) -> torch.Tensor:
            return torch.cat([1e6 * torch.ones_like(a), torch.zeros_like(a)], dim=1)

    layer = AffineCoupling(Huge(), scale_bound=2.0).double()
    x = torch.randn(4, 6, dtype=torch.float64)
    y, logdet = layer(x)
    assert torch.isfinite(y).all() and torch.isfinite(logdet).all()
    assert (logdet <= 3 * 2.0).all()
    torch.testing.assert_close(layer.inverse(y), x, atol=1e-10, rtol=1e-10)


BAD_INPUTS = [
    ("odd channels, additive coupling", lambda: AdditiveCoupling(mlp(2, 2, 4)), (2, 5), "even number"),
    ("odd channels, affine coupling", lambda: AffineCoupling(conv_net(1, 2, 4)), (2, 3, 4, 4), "even number"),
    ("odd channels, conditional", lambda: ConditionalConv1x1Coupling(5), None, "even"),
    ("squeeze of 7x7", lambda: Squeeze(2), (2, 1, 7, 7), "divisible by the squeeze factor"),
    ("conv1x1 on a vector", lambda: InvertibleConv1x1(4), (2, 4), r"\(batch, C, H, W\)"),
    ("plu conv1x1 wrong channels", lambda: InvertibleConv1x1LU(4), (2, 3, 2, 2), "4 channels"),
    ("actnorm rank 1", lambda: ActNorm(3), (3,), "shape"),
    ("actnorm batch of one vector", lambda: ActNorm(3), (1, 3), "at least 2 values"),
    ("flatten wrong shape", lambda: Flatten((1, 4, 4)), (2, 1, 4, 5), "shape"),
    ("logit outside [0, 1]", lambda: LogitTransform(), "out_of_range", r"\[0, 1\]"),
    ("logit alpha", lambda: LogitTransform(0.5), None, "alpha"),
]


@pytest.mark.parametrize(("what", "make", "shape", "match"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_raises_clear_error(what, make, shape, match):
    """Bad input raises ValueError naming the problem (odd channels, indivisible sizes, wrong rank, ...)."""
    with pytest.raises(ValueError, match=match):
        layer = make()
        x = torch.full((2, 1, 2, 2), 1.5) if shape == "out_of_range" else torch.randn(shape)
        layer(x)


def test_singular_dense_weight_is_rejected():
    """A singular dense 1x1 weight raises ValueError at construction, and in forward/inverse if training
    made it singular."""
    singular = torch.tensor([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(ValueError, match="singular"):
        InvertibleConv1x1(2, weight=singular)
    layer = InvertibleConv1x1(2)
    with torch.no_grad():
        layer.weight.copy_(singular)
    with pytest.raises(ValueError, match="singular"):
        layer(torch.randn(1, 2, 2, 2))
    with pytest.raises(ValueError, match="singular"):
        layer.inverse(torch.randn(1, 2, 2, 2))


def test_non_flow_arguments_raise_type_error():
    """Composition and split accept only Flow objects."""
    with pytest.raises(TypeError, match="flows\\[1\\]"):
        Compose(Squeeze(), nn.Linear(2, 2))
    with pytest.raises(TypeError, match="inner"):
        Split(nn.Identity(), keep=1)
    with pytest.raises(TypeError, match="conditioner"):
        AdditiveCoupling(lambda a: a)


@pytest.mark.claim(
    "flows/index.md#multi-scale-architecture",
    note="squeeze only permutes coordinates (hypothesis over shapes)",
)
@settings(max_examples=25, deadline=None)
@given(
    c=st.integers(1, 3),
    h=st.integers(1, 3),
    w=st.integers(1, 3),
    factor=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_squeeze_is_a_permutation_of_coordinates(c, h, w, factor, seed):
    """docs/flows/index.md (multi-scale architecture): squeeze only permutes the coordinates (so its
    log-det is 0) and Unsqueeze inverts it, for any shape divisible by the factor."""
    x = torch.randn(2, c, h * factor, w * factor, generator=torch.Generator().manual_seed(seed))
    y, logdet = Squeeze(factor)(x)
    assert y.shape == (2, c * factor * factor, h, w)
    assert torch.equal(logdet, torch.zeros(2))
    assert torch.equal(torch.sort(y.flatten(1), dim=1).values, torch.sort(x.flatten(1), dim=1).values)
    assert torch.equal(Unsqueeze(factor)(y)[0], x)
    assert torch.equal(Squeeze(factor).inverse(y), x)
