r"""The flow abstraction: invertible maps that report their log-Jacobian-determinant.

A flow $f$ maps $x$ to $y = f(x)$ and returns, per sample, $\log|\det J_f(x)|$, where $J_f(x)$ is the Jacobian
of the flattened output with respect to the flattened input (the order of flattening does not matter:
[Log-determinants, part (b)][b-any-vectorisation-gives-the-same-absolute-determinant]).
Composition adds log-determinants ([Change of variables][change-of-variables]):

$$
\log\left|\det J_{f_K \circ \dots \circ f_1}(x)\right|
= \sum_{k=1}^{K} \log\left|\det J_{f_k}(x_{k-1})\right|, \qquad x_0 = x,\; x_k = f_k(x_{k-1}).
$$
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from dnnf._validation import check_finite, check_generator, check_positive_int

__all__ = ["Flow", "Compose", "NormalizingFlow"]


class Flow(nn.Module, ABC):
    r"""An invertible map $y = f(x)$ with a tractable $\log|\det J_f(x)|$.

    Subclasses implement [`forward`][dnnf.flows.base.Flow.forward] (returning ``(y, logdet)`` with ``logdet``
    of shape ``(batch,)``) and the exact [`inverse`][dnnf.flows.base.Flow.inverse].

    Examples
    --------
    A flow returns its output and one log-determinant per sample, and inverts exactly:

    >>> import torch
    >>> from dnnf.flows import ActNorm, Flow
    >>> layer = ActNorm(3)
    >>> isinstance(layer, Flow)
    True
    >>> x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    >>> y, logdet = layer(x)
    >>> y.shape, logdet.shape, torch.allclose(layer.inverse(y), x, atol=1e-6)
    (torch.Size([4, 3]), torch.Size([4]), True)
    """

    @abstractmethod
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Return ``(y, logdet)``: $y = f(x)$ and $\log|\det J_f(x)|$ for each sample, shape ``(batch,)``."""

    @abstractmethod
    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $x = f^{-1}(y)$ exactly (up to floating-point rounding)."""


class Compose(Flow):
    r"""The composition $f_K \circ \dots \circ f_1$ of flows, applied left to right.

    Parameters
    ----------
    *flows : Flow
        The flows $f_1, \dots, f_K$ in the order they are applied to the input.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import Compose, Squeeze, Unsqueeze
    >>> flow = Compose(Squeeze(2), Unsqueeze(2))  # space-to-depth, then back
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> y, logdet = flow(x)
    >>> torch.equal(y, x), logdet.tolist()
    (True, [0.0])
    """

    def __init__(self, *flows: Flow) -> None:
        super().__init__()
        for i, f in enumerate(flows):
            if not isinstance(f, Flow):
                raise TypeError(f"flows[{i}] must be a dnnf.flows.Flow, got {type(f).__name__}")
        self.flows = nn.ModuleList(flows)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Apply the flows in order and sum their log-determinants."""
        logdet = x.new_zeros(x.shape[0])
        for f in self.flows:
            x, ld = f(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Invert the flows in reverse order."""
        for f in reversed(self.flows):
            y = f.inverse(y)
        return y


class NormalizingFlow(nn.Module):
    r"""A density model $p_X(x) = p_Z(f(x))\,|\det J_f(x)|$ built from a flow $f$ and a base density $p_Z$.

    $$
    \log p_X(x) = \log p_Z(f(x)) + \log\left|\det J_f(x)\right|.
    $$

    Sampling draws $z \sim p_Z$ and returns $x = f^{-1}(z)$. For the image models of dnnf, $x$ is a
    (dequantized) image with pixel values in $[0, 1]$ and the flow's first layer is the logit transform, so
    [`log_prob`][dnnf.flows.base.NormalizingFlow.log_prob] is the density in pixel space with the logit's
    Jacobian included.

    Parameters
    ----------
    transform : Flow
        The flow $f$ from data space to latent space.
    base : nn.Module
        The base distribution, e.g. [`StandardNormal`][dnnf.flows.StandardNormal], with ``log_prob(z)`` and
        ``sample(n, generator=None, device=None, dtype=None)``.
    config : dict or None
        ``{"name": str, "kwargs": dict}``: how [`build_model`][dnnf.flows.build_model] rebuilds this
        architecture.

    Examples
    --------
    With the identity flow the density is the base density:

    >>> import math, torch
    >>> from dnnf.flows import Compose, NormalizingFlow, StandardNormal
    >>> model = NormalizingFlow(Compose(), StandardNormal(2))
    >>> round(model.log_prob(torch.zeros(1, 2)).item(), 6) == round(-math.log(2 * math.pi), 6)
    True
    >>> model.sample(5, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([5, 2])
    """

    def __init__(self, transform: Flow, base: nn.Module, config: dict | None = None) -> None:
        super().__init__()
        if not isinstance(transform, Flow):
            raise TypeError(f"transform must be a dnnf.flows.Flow, got {type(transform).__name__}")
        if not (hasattr(base, "log_prob") and hasattr(base, "sample")):
            raise TypeError("base must have log_prob(z) and sample(n, generator=None, device=None) methods")
        if config is not None and not (isinstance(config, dict) and {"name", "kwargs"} <= set(config)):
            raise ValueError("config must be None or a dict with keys 'name' and 'kwargs'")
        self.transform = transform
        self.base = base
        self.config = config

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        r"""Return $\log p_X(x)$ for each sample, shape ``(batch,)``."""
        if torch.is_tensor(x) and not x.is_floating_point():
            raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
        if torch.is_tensor(x) and (x.dim() < 2 or x.shape[0] == 0):
            raise ValueError(f"x must have shape (batch, ...) with batch >= 1, got {tuple(x.shape)}")
        check_finite("x", x)  # the one check of the data entering the model (layers check shapes only)
        try:
            z, logdet = self.transform(x)
        except torch.cuda.OutOfMemoryError:
            raise
        except RuntimeError as err:  # e.g. a matrix product of the wrong width deep in a coupling net
            raise ValueError(f"x of shape {tuple(x.shape)} does not fit this model's input: {err}") from err
        return self.base.log_prob(z) + logdet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r"""Same as [`log_prob`][dnnf.flows.base.NormalizingFlow.log_prob] (so ``model(x)`` is the
        log-likelihood)."""
        return self.log_prob(x)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        r"""Draw ``n`` samples $x = f^{-1}(z)$, $z \sim p_Z$, on the model's device and dtype."""
        check_generator("generator", generator)
        check_positive_int("n", n)
        ref = next(self.parameters(), None)
        device = ref.device if ref is not None else None
        dtype = ref.dtype if ref is not None else None
        z = self.base.sample(n, generator=generator, device=device, dtype=dtype)
        return self.transform.inverse(z)
