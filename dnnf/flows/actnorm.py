r"""Activation normalisation (Glow): a per-channel affine map with data-dependent initialisation.

For $x$ of shape $(C, H, W)$ (or $(C,)$, or any $(C, \dots)$),

$$
y_{c, \dots} = (x_{c, \dots} + b_c)\, e^{\ell_c}, \qquad \log|\det J| = H W \sum_{c=1}^{C} \ell_c ,
$$

with $HW$ the number of positions per channel (1 for vectors). Derivation:
[Glow: ActNorm and invertible 1x1 convolutions][glow-actnorm-and-invertible-1x1-convolutions].
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dnnf._validation import check_channels, check_positive, check_positive_int, check_tensor_rank

from .base import Flow

__all__ = ["ActNorm"]


class ActNorm(Flow):
    r"""Per-channel affine flow $y = (x + b)\,e^{\ell}$ initialised so that its first batch has zero mean
    and unit variance per channel.

    The initialisation state is the registered buffer ``initialized``: it is saved in the
    ``state_dict``, so a model loaded from a checkpoint is never re-initialised by its first batch.

    Parameters
    ----------
    num_channels : int
        $C$, the size of dim 1 of the input ``(batch, C, ...)``.
    eps : float
        Added to the standard deviation at initialisation.

    Examples
    --------
    The first batch initialises the layer so that its output has zero mean and unit variance per channel:

    >>> import torch
    >>> from dnnf.flows import ActNorm, jacobian_logabsdet
    >>> layer = ActNorm(2).double()
    >>> x = torch.randn(64, 2, 3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    >>> y, logdet = layer(x)
    >>> [abs(round(v, 6)) for v in y.mean(dim=(0, 2, 3)).tolist()]
    [0.0, 0.0]
    >>> [round(v, 4) for v in y.std(dim=(0, 2, 3), unbiased=False).tolist()]
    [1.0, 1.0]
    >>> torch.allclose(logdet[:2], jacobian_logabsdet(layer, x[:2])), torch.allclose(layer.inverse(y), x)
    (True, True)
    """

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.num_channels = check_positive_int("num_channels", num_channels)
        self.eps = check_positive("eps", eps)
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.log_scale = nn.Parameter(torch.zeros(num_channels))
        self.register_buffer("initialized", torch.tensor(False))

    def extra_repr(self) -> str:
        return f"num_channels={self.num_channels}, initialized={bool(self.initialized)}"

    def _view(self, p: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return p.view(1, -1, *([1] * (x.dim() - 2)))

    def _check(self, name: str, x: torch.Tensor) -> None:
        check_tensor_rank(name, x, (2, 3, 4, 5), "(batch, C) or (batch, C, ...)")
        check_channels(name, x, self.num_channels)

    @torch.no_grad()
    def initialize(self, x: torch.Tensor) -> None:
        r"""Set $b = -\operatorname{mean}(x)$ and $\ell = -\log(\operatorname{std}(x) + \varepsilon)$
        per channel from the batch ``x`` and mark the layer initialised."""
        self._check("x", x)
        per_channel = x.transpose(0, 1).reshape(self.num_channels, -1)
        if per_channel.shape[1] < 2:
            raise ValueError(
                "ActNorm's data-dependent initialisation needs at least 2 values per channel; "
                f"got a batch of shape {tuple(x.shape)} (use a batch of 2 or more samples)"
            )
        mean = per_channel.mean(1)
        std = per_channel.std(1, unbiased=False)
        self.bias.copy_(-mean)
        self.log_scale.copy_(-torch.log(std + self.eps))
        self.initialized.fill_(True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(y, logdet)``; initialise from ``x`` on the first call of an uninitialised layer."""
        self._check("x", x)
        if not bool(self.initialized):
            self.initialize(x)
        y = (x + self._view(self.bias, x)) * torch.exp(self._view(self.log_scale, x))
        positions = math.prod(x.shape[2:])
        logdet = (positions * self.log_scale.sum()).expand(x.shape[0])
        return y, logdet

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $x = y\,e^{-\ell} - b$."""
        self._check("y", y)
        return y * torch.exp(-self._view(self.log_scale, y)) - self._view(self.bias, y)
