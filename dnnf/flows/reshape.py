r"""Volume-preserving reshapes: squeeze, its inverse, flattening, and the multi-scale split.

A reshape only permutes coordinates, so its Jacobian is a permutation matrix and $\log|\det J| = 0$.
The multi-scale split (RealNVP) factors out half of the channels: they go straight to the base
distribution while the other half is transformed further at a coarser scale,

$$
(x_{\text{keep}}, x_{\text{out}}) \mapsto (g(x_{\text{keep}}), x_{\text{out}}), \qquad
\log|\det J| = \log|\det J_g(x_{\text{keep}})| ,
$$

([Multi-scale architecture][multi-scale-architecture]).
"""

from __future__ import annotations

import math

import torch

from dnnf._validation import check_positive_int, check_tensor_rank

from .base import Flow

__all__ = ["Squeeze", "Unsqueeze", "Flatten", "Split"]


def _squeeze(x: torch.Tensor, f: int, name: str) -> torch.Tensor:
    check_tensor_rank(name, x, 4, "(batch, C, H, W)")
    b, c, h, w = x.shape
    if h % f or w % f:
        raise ValueError(
            f"the spatial size of {name} must be divisible by the squeeze factor {f}, got H={h}, W={w}"
        )
    x = x.reshape(b, c, h // f, f, w // f, f).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(b, c * f * f, h // f, w // f)


def _unsqueeze(x: torch.Tensor, f: int, name: str) -> torch.Tensor:
    check_tensor_rank(name, x, 4, "(batch, C, H, W)")
    b, c, h, w = x.shape
    if c % (f * f):
        raise ValueError(f"the channel count of {name} must be divisible by factor**2 = {f * f}, got C={c}")
    x = x.reshape(b, c // (f * f), f, f, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(b, c // (f * f), h * f, w * f)


class Squeeze(Flow):
    r"""Space-to-depth: ``(B, C, H, W) -> (B, C f^2, H/f, W/f)``; each $f \times f$ patch becomes channels.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import Squeeze
    >>> y, logdet = Squeeze(2)(torch.arange(16.0).reshape(1, 1, 4, 4))
    >>> y.shape, y[0, :, 0, 0].tolist(), logdet.tolist()
    (torch.Size([1, 4, 2, 2]), [0.0, 1.0, 4.0, 5.0], [0.0])
    """

    def __init__(self, factor: int = 2) -> None:
        super().__init__()
        self.factor = check_positive_int("factor", factor)

    def extra_repr(self) -> str:
        return f"factor={self.factor}"

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(squeezed x, 0)``."""
        return _squeeze(x, self.factor, "x"), x.new_zeros(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Undo the squeeze."""
        return _unsqueeze(y, self.factor, "y")


class Unsqueeze(Squeeze):
    r"""Depth-to-space, the inverse of [`Squeeze`][dnnf.flows.Squeeze]: ``(B, C f^2, H, W) -> (B, C, H f, W
    f)``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import Squeeze, Unsqueeze
    >>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
    >>> torch.equal(Unsqueeze(2)(Squeeze(2)(x)[0])[0], x)
    True
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(unsqueezed x, 0)``."""
        return _unsqueeze(x, self.factor, "x"), x.new_zeros(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Squeeze back."""
        return _squeeze(y, self.factor, "y")


class Flatten(Flow):
    """Flatten ``(B, *event_shape)`` to ``(B, prod(event_shape))`` (row-major), and back.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import Flatten
    >>> layer = Flatten((1, 2, 2))
    >>> y, _ = layer(torch.arange(8.0).reshape(2, 1, 2, 2))
    >>> y.shape, layer.inverse(y).shape
    (torch.Size([2, 4]), torch.Size([2, 1, 2, 2]))
    """

    def __init__(self, event_shape: tuple[int, ...]) -> None:
        super().__init__()
        shape = tuple(event_shape)
        if not shape or not all(isinstance(s, int) and s > 0 for s in shape):
            raise ValueError(f"event_shape must be a tuple of positive ints, got {event_shape!r}")
        self.event_shape = shape

    def extra_repr(self) -> str:
        return f"event_shape={self.event_shape}"

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(x flattened, 0)``."""
        if not torch.is_tensor(x) or tuple(x.shape[1:]) != self.event_shape:
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(f"x must have shape (batch, {', '.join(map(str, self.event_shape))}), got {got}")
        return x.flatten(1), x.new_zeros(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Reshape back to ``(B, *event_shape)``."""
        d = math.prod(self.event_shape)
        if not torch.is_tensor(y) or y.dim() != 2 or y.shape[1] != d:
            got = tuple(y.shape) if torch.is_tensor(y) else type(y).__name__
            raise ValueError(f"y must have shape (batch, {d}), got {got}")
        return y.reshape(y.shape[0], *self.event_shape)


class Split(Flow):
    r"""Multi-scale split: transform the first ``keep`` channels with ``inner``, pass the rest through.

    ``inner`` must preserve the shape of what it transforms (in dnnf's Glow model it starts with a
    [`Squeeze`][dnnf.flows.Squeeze] and ends with an [`Unsqueeze`][dnnf.flows.Unsqueeze]), so the whole model
    maps an image to a latent of the same shape and the factored-out channels meet the base distribution
    directly.

    Parameters
    ----------
    inner : Flow
        The flow $g$ applied to the kept channels.
    keep : int
        Number of leading channels transformed by ``inner``.

    Examples
    --------
    The inner flow sees only the first ``keep`` channels; the others pass through:

    >>> import torch
    >>> from dnnf.flows import ActNorm, Split
    >>> layer = Split(ActNorm(2), keep=2)
    >>> x = torch.randn(8, 4, 2, 2, generator=torch.Generator().manual_seed(0))
    >>> y, logdet = layer(x)
    >>> torch.equal(y[:, 2:], x[:, 2:]), logdet.shape, torch.allclose(layer.inverse(y), x, atol=1e-6)
    (True, torch.Size([8]), True)
    """

    def __init__(self, inner: Flow, keep: int) -> None:
        super().__init__()
        if not isinstance(inner, Flow):
            raise TypeError(f"inner must be a dnnf.flows.Flow, got {type(inner).__name__}")
        self.inner = inner
        self.keep = check_positive_int("keep", keep)

    def extra_repr(self) -> str:
        return f"keep={self.keep}"

    def _parts(self, x: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        check_tensor_rank(name, x, (2, 3, 4, 5), "(batch, C, ...)")
        if x.shape[1] <= self.keep:
            raise ValueError(f"{name} must have more than keep={self.keep} channels, got {x.shape[1]}")
        return x[:, : self.keep], x[:, self.keep :]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``((g(x_keep), x_out), log|det J_g(x_keep)|)``."""
        kept, out = self._parts(x, "x")
        y, logdet = self.inner(kept)
        if y.shape != kept.shape:
            raise ValueError(f"inner must preserve the shape {tuple(kept.shape)}, got {tuple(y.shape)}")
        return torch.cat([y, out], dim=1), logdet

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """Invert ``inner`` on the kept channels."""
        kept, out = self._parts(y, "y")
        return torch.cat([self.inner.inverse(kept), out], dim=1)
