r"""Coupling layers: NICE's additive coupling and RealNVP/Glow's affine coupling.

The input is split along dim 1 into $(x_a, x_b)$ (the two halves, or the even and odd indices);
$x_a$ passes unchanged and conditions the transformation of $x_b$:

$$
\text{additive: } y_b = x_b + t(x_a), \qquad
\text{affine: } y_b = x_b \odot e^{\ell(x_a)} + t(x_a).
$$

$\log|\det J| = 0$ (additive) and $\log|\det J| = \sum_i \ell_i(x_a)$ (affine); derivation:
[Coupling layers: NICE and RealNVP][coupling-layers-nice-and-realnvp]. The affine log-scale is soft-clamped,
$\ell = c \tanh(r / c)$, so $|\ell| < c$: a raw network output $r$ that blows up cannot produce an
overflowing $e^{\ell}$ or a vanishing scale that makes the inverse explode.
"""

from __future__ import annotations

import torch
from torch import nn

from dnnf._validation import check_positive, check_tensor_rank

from .base import Flow

__all__ = ["AdditiveCoupling", "AffineCoupling"]

_SPLITS = ("half", "alternate")


def _split(x: torch.Tensor, split: str, swap: bool, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    check_tensor_rank(name, x, (2, 3, 4, 5), "(batch, D) or (batch, C, ...)")
    n = x.shape[1]
    if n % 2:
        raise ValueError(
            f"a coupling layer needs an even number of channels (features) in dim 1 of {name}, got {n}"
        )
    if split == "half":
        a, b = x[:, : n // 2], x[:, n // 2 :]
    else:
        a, b = x[:, 0::2], x[:, 1::2]
    return (b, a) if swap else (a, b)


def _merge(a: torch.Tensor, b: torch.Tensor, split: str, swap: bool) -> torch.Tensor:
    if swap:
        a, b = b, a
    if split == "half":
        return torch.cat([a, b], dim=1)
    # interleave: a0, b0, a1, b1, ...
    return torch.stack([a, b], dim=2).flatten(1, 2)


class _Coupling(Flow):
    def __init__(self, conditioner: nn.Module, split: str = "half", swap: bool = False) -> None:
        super().__init__()
        if not isinstance(conditioner, nn.Module):
            raise TypeError(f"conditioner must be a torch.nn.Module, got {type(conditioner).__name__}")
        if split not in _SPLITS:
            raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
        self.conditioner = conditioner
        self.split = split
        self.swap = bool(swap)

    def extra_repr(self) -> str:
        return f"split={self.split!r}, swap={self.swap}"

    def _params(self, a: torch.Tensor, b: torch.Tensor, factor: int) -> torch.Tensor:
        out = self.conditioner(a)
        expected = (b.shape[0], factor * b.shape[1], *b.shape[2:])
        if tuple(out.shape) != expected:
            raise ValueError(
                f"the conditioner must map the kept half {tuple(a.shape)} to shape {expected}, "
                f"got {tuple(out.shape)}"
            )
        return out


class AdditiveCoupling(_Coupling):
    r"""NICE's additive coupling $y_a = x_a$, $y_b = x_b + t(x_a)$; $\log|\det J| = 0$.

    Parameters
    ----------
    conditioner : nn.Module
        $t$, mapping $x_a$ of shape ``(batch, n/2, ...)`` to the shape of $x_b$.
    split : {"half", "alternate"}
        ``"half"``: $x_a$ is the first half of dim 1; ``"alternate"``: the even indices (NICE).
    swap : bool
        Exchange the roles of the two parts (so that stacked couplings transform both).

    Examples
    --------
    Volume-preserving: the log-determinant is 0 whatever the conditioner.

    >>> import torch
    >>> from dnnf.flows import AdditiveCoupling, mlp
    >>> _ = torch.manual_seed(0)
    >>> layer = AdditiveCoupling(mlp(2, 2, hidden=8, identity_init=False))
    >>> x = torch.randn(3, 4)
    >>> y, logdet = layer(x)
    >>> logdet.tolist(), torch.equal(y[:, :2], x[:, :2]), torch.allclose(layer.inverse(y), x, atol=1e-6)
    ([0.0, 0.0, 0.0], True, True)
    """

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(y, 0)``."""
        a, b = _split(x, self.split, self.swap, "x")
        y = _merge(a, b + self._params(a, b, 1), self.split, self.swap)
        return y, x.new_zeros(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $x$ with $x_b = y_b - t(y_a)$."""
        a, b = _split(y, self.split, self.swap, "y")
        return _merge(a, b - self._params(a, b, 1), self.split, self.swap)


class AffineCoupling(_Coupling):
    r"""Affine coupling $y_b = x_b \odot e^{\ell(x_a)} + t(x_a)$ with $\ell = c\tanh(r/c)$;
    $\log|\det J| = \sum_i \ell_i(x_a)$.

    Parameters
    ----------
    conditioner : nn.Module
        Maps $x_a$ to ``(batch, 2 * size of x_b, ...)``: the raw log-scale $r$ and the shift $t$,
        concatenated along dim 1.
    split, swap
        As in [`AdditiveCoupling`][dnnf.flows.AdditiveCoupling].
    scale_bound : float
        $c > 0$, the bound on $|\ell|$.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import AffineCoupling, jacobian_logabsdet, mlp
    >>> _ = torch.manual_seed(0)
    >>> layer = AffineCoupling(mlp(2, 4, hidden=8, identity_init=False)).double()
    >>> x = torch.randn(3, 4, dtype=torch.float64)
    >>> y, logdet = layer(x)
    >>> torch.allclose(logdet, jacobian_logabsdet(layer, x)), torch.allclose(layer.inverse(y), x)
    (True, True)
    """

    def __init__(
        self, conditioner: nn.Module, split: str = "half", swap: bool = False, scale_bound: float = 2.0
    ) -> None:
        super().__init__(conditioner, split, swap)
        check_positive("scale_bound", scale_bound)
        self.scale_bound = float(scale_bound)

    def _scale_shift(self, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw, shift = self._params(a, b, 2).chunk(2, dim=1)
        c = self.scale_bound
        return c * torch.tanh(raw / c), shift

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Return ``(y, sum_i l_i(x_a))``."""
        a, b = _split(x, self.split, self.swap, "x")
        log_scale, shift = self._scale_shift(a, b)
        y = _merge(a, b * torch.exp(log_scale) + shift, self.split, self.swap)
        return y, log_scale.flatten(1).sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $x$ with $x_b = (y_b - t(y_a)) \odot e^{-\ell(y_a)}$."""
        a, b = _split(y, self.split, self.swap, "y")
        log_scale, shift = self._scale_shift(a, b)
        return _merge(a, (b - shift) * torch.exp(-log_scale), self.split, self.swap)
