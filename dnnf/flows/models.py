r"""Ready-made flows: NICE and a small Glow for MNIST-sized images, and a 2-D toy flow.

Every model is a [`NormalizingFlow`][dnnf.flows.NormalizingFlow] whose ``config`` records its constructor's
name and keyword arguments, so [`build_model`][dnnf.flows.build_model] can rebuild the architecture before
loading weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch

from dnnf._validation import (
    check_finite_number,
    check_positive,
    check_positive_int,
    check_seed,
)

from .actnorm import ActNorm
from .base import Compose, Flow, NormalizingFlow
from .conditional import ConditionalConv1x1Coupling
from .conv1x1 import InvertibleConv1x1, InvertibleConv1x1LU
from .coupling import AdditiveCoupling, AffineCoupling
from .distributions import StandardLogistic, StandardNormal
from .nets import conv_net, mlp
from .preprocess import LogitTransform
from .reshape import Flatten, Split, Squeeze, Unsqueeze

__all__ = ["nice_mnist", "glow_mnist", "flow_2d", "build_model", "MODELS"]


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    # Seed only the construction (parameter init), leaving the caller's global RNG state untouched.
    if seed is None:
        yield
        return
    check_seed("seed", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _image_shape(image_shape: tuple[int, ...] | list[int]) -> tuple[int, int, int]:
    if not isinstance(image_shape, tuple | list | torch.Size) or len(image_shape) != 3:
        raise TypeError(f"image_shape must be a tuple (C, H, W) of positive ints, got {image_shape!r}")
    shape = tuple(check_positive_int(f"image_shape[{i}]", s) for i, s in enumerate(image_shape))
    return shape  # type: ignore[return-value]


def _check_logit_alpha(logit_alpha: float | None) -> None:
    if logit_alpha is not None and not 0.0 < check_finite_number("logit_alpha", logit_alpha) < 0.5:
        raise ValueError(f"logit_alpha must satisfy 0 < logit_alpha < 0.5, or be None; got {logit_alpha!r}")


def nice_mnist(
    image_shape: tuple[int, int, int] = (1, 28, 28),
    num_couplings: int = 4,
    hidden: int = 500,
    num_hidden_layers: int = 4,
    logit_alpha: float | None = 0.05,
    seed: int | None = 0,
) -> NormalizingFlow:
    r"""NICE (Dinh et al., 2015) on flattened images, with a standard logistic base.

    Layers: logit transform ([`LogitTransform`][dnnf.flows.LogitTransform]; left out if ``logit_alpha`` is
    ``None``, for data that leave $[0, 1]$, e.g. images with Gaussian noise), flatten to $D = CHW$,
    ``num_couplings`` additive couplings on alternating even/odd coordinates (each conditioner an MLP with
    ``num_hidden_layers`` hidden layers of width ``hidden``), and a final per-coordinate affine
    [`ActNorm`][dnnf.flows.ActNorm] (NICE's diagonal scaling layer, plus a shift). The couplings have
    $\log|\det J| = 0$, so the log-determinant comes from the logit and the scaling.

    Input: ``(B, C, H, W)`` with values in $[0, 1]$ (any real values without the logit). ``seed`` fixes
    the initial parameters (``None``: use the global RNG).

    Examples
    --------
    A small NICE on 4-by-4 images (the book's model is ``nice_mnist()``):

    >>> import torch
    >>> from dnnf.flows import nice_mnist
    >>> model = nice_mnist(image_shape=(1, 4, 4), hidden=16, num_hidden_layers=1)
    >>> x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    >>> model.log_prob(x).shape, model.config["name"]
    (torch.Size([2]), 'nice_mnist')
    """
    c, h, w = _image_shape(image_shape)
    check_positive_int("num_couplings", num_couplings)
    d = c * h * w
    if d % 2:
        raise ValueError(f"NICE needs an even number of dimensions C*H*W, got {d}")
    kwargs = dict(
        image_shape=(c, h, w), num_couplings=num_couplings, hidden=hidden,
        num_hidden_layers=num_hidden_layers, logit_alpha=logit_alpha, seed=seed,
    )  # fmt: skip
    _check_logit_alpha(logit_alpha)
    with _seeded(seed):
        layers: list[Flow] = [LogitTransform(logit_alpha)] if logit_alpha is not None else []
        layers.append(Flatten((c, h, w)))
        for i in range(num_couplings):
            net = mlp(d // 2, d // 2, hidden, num_hidden_layers)
            layers.append(AdditiveCoupling(net, split="alternate", swap=bool(i % 2)))
        layers.append(ActNorm(d))
        transform = Compose(*layers)
    return NormalizingFlow(transform, StandardLogistic((d,)), {"name": "nice_mnist", "kwargs": kwargs})


def _glow_step(channels: int, hidden: int, conv: str, coupling: str) -> list[Flow]:
    mix = InvertibleConv1x1LU(channels) if conv == "lu" else InvertibleConv1x1(channels)
    half = channels // 2
    if coupling == "affine":
        couple: Flow = AffineCoupling(conv_net(half, 2 * half, hidden))
    elif coupling == "additive":
        couple = AdditiveCoupling(conv_net(half, half, hidden))
    else:
        couple = ConditionalConv1x1Coupling(channels, hidden)
    return [ActNorm(channels), mix, couple]


def _glow_level(
    channels: int, level: int, num_levels: int, steps: int, hidden: int, conv: str, coupling: str
) -> Flow:
    # squeeze -> K steps -> (split off half, recurse on the other half) -> unsqueeze: the level maps
    # its input to a tensor of the same shape, so the whole model's latent has the image's shape.
    c4 = 4 * channels
    layers: list[Flow] = [Squeeze(2)]
    for _ in range(steps):
        layers += _glow_step(c4, hidden, conv, coupling)
    if level + 1 < num_levels:
        keep = c4 // 2
        layers.append(Split(_glow_level(keep, level + 1, num_levels, steps, hidden, conv, coupling), keep))
    layers.append(Unsqueeze(2))
    return Compose(*layers)


def glow_mnist(
    image_shape: tuple[int, int, int] = (1, 28, 28),
    num_levels: int = 2,
    steps_per_level: int = 4,
    hidden_channels: int = 64,
    conv: str = "lu",
    coupling: str = "affine",
    logit_alpha: float | None = 0.05,
    seed: int | None = 0,
) -> NormalizingFlow:
    r"""A small Glow-style multi-scale flow (Kingma & Dhariwal, 2018) with a standard normal base.

    Layers: logit transform (left out if ``logit_alpha`` is ``None``), then ``num_levels`` levels; each
    level squeezes ($2 \times 2$ patches to channels), applies ``steps_per_level`` steps of ActNorm,
    invertible 1x1 convolution (``conv="lu"`` or ``"dense"``) and a coupling (``coupling="affine"``,
    ``"additive"`` or ``"conditional"``, the latter being ``ConditionalConv1x1Coupling``), then
    factors out half of the channels (RealNVP's multi-scale split) before the next level. The latent has
    the image's shape.

    Input: ``(B, C, H, W)`` with values in $[0, 1]$ (any real values without the logit); $H$ and $W$
    must be divisible by $2^{L}$, $L$ = ``num_levels`` (28 allows $L \le 2$).

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import glow_mnist
    >>> model = glow_mnist(image_shape=(1, 8, 8), num_levels=2, steps_per_level=1, hidden_channels=8)
    >>> model.sample(3, generator=torch.Generator().manual_seed(0)).shape  # the latent has the image's shape
    torch.Size([3, 1, 8, 8])
    """
    c, h, w = _image_shape(image_shape)
    check_positive_int("num_levels", num_levels)
    check_positive_int("steps_per_level", steps_per_level)
    check_positive_int("hidden_channels", hidden_channels)
    if conv not in ("lu", "dense"):
        raise ValueError(f"conv must be 'lu' or 'dense', got {conv!r}")
    if coupling not in ("affine", "additive", "conditional"):
        raise ValueError(f"coupling must be 'affine', 'additive' or 'conditional', got {coupling!r}")
    f = 2**num_levels
    if h % f or w % f:
        raise ValueError(f"image_shape's H and W must be divisible by 2**num_levels = {f}, got H={h}, W={w}")
    kwargs = dict(
        image_shape=(c, h, w), num_levels=num_levels, steps_per_level=steps_per_level,
        hidden_channels=hidden_channels, conv=conv, coupling=coupling, logit_alpha=logit_alpha, seed=seed,
    )  # fmt: skip
    _check_logit_alpha(logit_alpha)
    with _seeded(seed):
        levels = _glow_level(c, 0, num_levels, steps_per_level, hidden_channels, conv, coupling)
        transform = Compose(LogitTransform(logit_alpha), levels) if logit_alpha is not None else levels
    return NormalizingFlow(transform, StandardNormal((c, h, w)), {"name": "glow_mnist", "kwargs": kwargs})


def flow_2d(
    num_couplings: int = 6, hidden: int = 32, init_scale: float = 1.0, seed: int | None = 0
) -> NormalizingFlow:
    r"""A 2-D flow of ``num_couplings`` affine couplings (alternating which coordinate is transformed) with a
    standard normal base, for pictures and checks on a grid.

    Each conditioner is an MLP whose output layer starts at PyTorch's random initialisation multiplied by
    ``init_scale``: ``0`` gives the identity flow, ``1`` a mildly deformed Gaussian, ``3`` a clearly
    non-Gaussian density, so an untrained model already has an interesting shape.

    Examples
    --------
    ``init_scale=0`` is the identity flow, so the density is the standard normal:

    >>> import math, torch
    >>> from dnnf.flows import flow_2d
    >>> model = flow_2d(init_scale=0.0)
    >>> round(model.log_prob(torch.zeros(1, 2)).item(), 4) == round(-math.log(2 * math.pi), 4)
    True
    """
    check_positive_int("num_couplings", num_couplings)
    init_scale = check_positive("init_scale", init_scale, allow_zero=True)
    kwargs = dict(num_couplings=num_couplings, hidden=hidden, init_scale=init_scale, seed=seed)
    with _seeded(seed):
        layers = [
            AffineCoupling(mlp(1, 2, hidden, 2, identity_init=False), swap=bool(i % 2))
            for i in range(num_couplings)
        ]
    with torch.no_grad():
        for layer in layers:
            out = layer.conditioner[-1]
            out.weight.mul_(init_scale)
            out.bias.mul_(init_scale)
    return NormalizingFlow(Compose(*layers), StandardNormal((2,)), {"name": "flow_2d", "kwargs": kwargs})


MODELS: dict[str, Callable[..., NormalizingFlow]] = {
    "nice_mnist": nice_mnist,
    "glow_mnist": glow_mnist,
    "flow_2d": flow_2d,
}
"""The model constructors by name: what [`build_model`][dnnf.flows.build_model] looks a ``config`` up in.

Examples
--------
>>> from dnnf.flows import MODELS
>>> sorted(MODELS)
['flow_2d', 'glow_mnist', 'nice_mnist']
"""


def build_model(config: dict) -> NormalizingFlow:
    """Rebuild a model (freshly initialised) from its ``config`` ``{"name": str, "kwargs": dict}``.

    Raises ``ValueError`` for an unknown name or keyword arguments the constructor does not accept.

    Examples
    --------
    >>> from dnnf.flows import build_model, flow_2d
    >>> model = flow_2d(num_couplings=2, hidden=8)
    >>> rebuilt = build_model(model.config)
    >>> rebuilt.config == model.config, len(rebuilt.transform.flows)
    (True, 2)
    """
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError(f"config must be a dict with keys 'name' and 'kwargs', got {config!r}")
    name = config["name"]
    if name not in MODELS:
        raise ValueError(f"unknown model name {name!r}; expected one of {sorted(MODELS)}")
    kwargs = dict(config.get("kwargs") or {})
    if "image_shape" in kwargs:  # configs read back from JSON carry lists
        kwargs["image_shape"] = tuple(kwargs["image_shape"])
    try:
        return MODELS[name](**kwargs)
    except TypeError as err:
        raise ValueError(f"config['kwargs'] does not fit {name}: {err}") from err
