r"""The conditional 1x1-convolution coupling: a 1x1 convolution whose weights depend on the other channels.

The input $X \in \mathbb{R}^{2C \times H \times W}$ is split into $X_1 = X_{1:C}$ and $X_2 = X_{C+1:2C}$;

$$
Z_1 = X_1, \qquad Z_{2, :, h, w} = A(X_1)\, X_{2, :, h, w}, \qquad
A(X_1) = P\, L(X_1)\, \big(U(X_1) + \operatorname{diag}(s(X_1))\big),
$$

a 1x1 convolution of the second half whose PLU factors are computed from the first half, so

$$
\log|\det J| = H W \sum_{i=1}^{C} \log|s_i(X_1)| .
$$

Proof: [(d) The conditional 1x1-convolution coupling][d-the-conditional-1x1-convolution-coupling].
"""

from __future__ import annotations

import torch
from torch import nn

from dnnf._validation import check_channels, check_positive, check_positive_int, check_tensor_rank

from .base import Flow
from .conv1x1 import plu_inverse_weight, plu_weight

__all__ = ["ConditionalConv1x1Coupling"]


class ConditionalConv1x1Coupling(Flow):
    r"""A conditional 1x1-convolution coupling: the second half of the channels goes through a 1x1
    convolution with weight $A(X_1) = P L(X_1)(U(X_1) + \operatorname{diag}(s(X_1)))$.

    A small network (3x3 conv, ReLU, 1x1 conv, ReLU, global average pooling, linear) maps $X_1$ to a
    $C \times C$ matrix $M$: its strictly lower part is $L$'s, its strictly upper part is $U$'s, and its
    diagonal gives $\log s = c \tanh(\operatorname{diag} M / c)$ (so $s > 0$ and bounded away from 0).
    The output layer starts at zero, so initially $A = P$. $P$ is a fixed random permutation.

    Parameters
    ----------
    num_channels : int
        $2C$, the (even) number of input channels.
    hidden : int
        Width of the network.
    scale_bound : float
        $c$, the bound on $|\log s_i|$.
    generator : torch.Generator or None
        Draws the permutation $P$.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import ConditionalConv1x1Coupling, jacobian_logabsdet
    >>> layer = ConditionalConv1x1Coupling(4, hidden=8, generator=torch.Generator().manual_seed(0)).double()
    >>> x = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> y, logdet = layer(x)
    >>> torch.allclose(logdet, jacobian_logabsdet(layer, x)), torch.allclose(layer.inverse(y), x)
    (True, True)
    """

    def __init__(
        self,
        num_channels: int,
        hidden: int = 32,
        scale_bound: float = 2.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("num_channels", num_channels)
        check_positive_int("hidden", hidden)
        if num_channels % 2:
            raise ValueError(f"num_channels must be even for a coupling layer, got {num_channels}")
        check_positive("scale_bound", scale_bound)
        c = num_channels // 2
        self.num_channels = num_channels
        self.scale_bound = float(scale_bound)
        perm = torch.randperm(c, generator=generator)
        self.register_buffer("permutation", torch.eye(c)[perm])
        self.features = nn.Sequential(
            nn.Conv2d(c, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, hidden, 1), nn.ReLU()
        )
        self.head = nn.Linear(hidden, c * c)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def extra_repr(self) -> str:
        return f"num_channels={self.num_channels}, scale_bound={self.scale_bound}"

    def _check(self, name: str, x: torch.Tensor) -> None:
        check_tensor_rank(name, x, 4, "(batch, 2C, H, W)")
        check_channels(name, x, self.num_channels)

    def factors(self, x1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        r"""Return $(L, U, \log s)$ computed from the first half $X_1$: shapes ``(B, C, C)``, ``(B, C, C)``
        (only the strict triangles are meaningful) and ``(B, C)``."""
        c = self.num_channels // 2
        m = self.head(self.features(x1).mean(dim=(2, 3))).view(-1, c, c)
        bound = self.scale_bound
        log_s = bound * torch.tanh(torch.diagonal(m, dim1=-2, dim2=-1) / bound)
        return m, m, log_s

    def weight(self, x1: torch.Tensor) -> torch.Tensor:
        r"""Return the per-sample weights $A(X_1)$, shape ``(B, C, C)``."""
        lower, upper, log_s = self.factors(x1)
        return plu_weight(self.permutation, lower, upper, torch.exp(log_s))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Return ``(Z, H W sum_i log s_i(X_1))``."""
        self._check("x", x)
        x1, x2 = x.chunk(2, dim=1)
        lower, upper, log_s = self.factors(x1)
        a = plu_weight(self.permutation, lower, upper, torch.exp(log_s))
        z2 = torch.einsum("bij,bjhw->bihw", a, x2)
        return torch.cat([x1, z2], dim=1), x.shape[2] * x.shape[3] * log_s.sum(1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $X$ with $X_1 = Z_1$ and $X_2 = A(Z_1)^{-1} Z_2$ (triangular solves)."""
        self._check("y", y)
        z1, z2 = y.chunk(2, dim=1)
        lower, upper, log_s = self.factors(z1)
        inv = plu_inverse_weight(self.permutation, lower, upper, torch.exp(log_s))
        return torch.cat([z1, torch.einsum("bij,bjhw->bihw", inv, z2)], dim=1)
