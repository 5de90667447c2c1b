r"""Invertible 1x1 convolutions (Glow), in the dense form and in the PLU form.

A 1x1 convolution with a $C \times C$ matrix $A$ maps $x \in \mathbb{R}^{C \times H \times W}$ to
$y_{:, h, w} = A\, x_{:, h, w}$ at each of the $HW$ positions, so

$$
\log|\det J| = H W \log|\det A| .
$$

In the PLU form $A = P L (U + \operatorname{diag}(s))$ ($P$ a fixed permutation, $L$ unit lower
triangular, $U$ strictly upper triangular)

$$
\log|\det J| = H W \sum_{i=1}^{C} \log|s_i| ,
$$

which costs $O(C)$ instead of $O(C^3)$. Proofs: [(a) The PLU parametrisation][a-the-plu-parametrisation]
and [(c) The 1x1 convolution: a Kronecker product][c-the-1x1-convolution-a-kronecker-product].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dnnf._validation import check_channels, check_generator, check_positive_int, check_tensor_rank

from .base import Flow

__all__ = [
    "InvertibleConv1x1",
    "InvertibleConv1x1LU",
    "plu_weight",
    "plu_inverse_weight",
    "random_orthogonal",
]


def random_orthogonal(num_channels: int, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Return a random $C \times C$ orthogonal matrix (QR of a Gaussian matrix), the usual initial weight.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import random_orthogonal
    >>> q = random_orthogonal(4, generator=torch.Generator().manual_seed(0))
    >>> torch.allclose(q.T @ q, torch.eye(4), atol=1e-6)
    True
    """
    check_generator("generator", generator)
    check_positive_int("num_channels", num_channels)
    q, r = torch.linalg.qr(torch.randn(num_channels, num_channels, generator=generator))
    # Multiplying the columns by sign(diag(r)) makes q Haar distributed (and the QR unique).
    return q * torch.sign(torch.diagonal(r)).unsqueeze(0)


def _factors(lower: torch.Tensor, upper: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    eye = torch.eye(lower.shape[-1], dtype=lower.dtype, device=lower.device)
    unit_lower = torch.tril(lower, -1) + eye
    upper_s = torch.triu(upper, 1) + torch.diag_embed(s)
    return unit_lower, upper_s


def plu_weight(
    permutation: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor, s: torch.Tensor
) -> torch.Tensor:
    r"""Return $A = P\,L\,(U + \operatorname{diag}(s))$.

    Only the strictly lower part of ``lower`` (the unit diagonal is implied) and the strictly upper part
    of ``upper`` are used. Leading batch dimensions broadcast.

    Parameters
    ----------
    permutation : Tensor
        $P$, a $C \times C$ permutation matrix.
    lower, upper : Tensor
        ``(..., C, C)`` matrices giving $L$ and $U$.
    s : Tensor
        ``(..., C)``, the diagonal of the upper factor.

    Examples
    --------
    $\det A = \det P \prod_i s_i$:

    >>> import torch
    >>> from dnnf.flows import plu_weight
    >>> lower = torch.tensor([[0.0, 0.0], [0.5, 0.0]])
    >>> upper = torch.tensor([[0.0, 3.0], [0.0, 0.0]])
    >>> a = plu_weight(torch.eye(2), lower, upper, torch.tensor([2.0, -1.0]))
    >>> a.tolist(), round(torch.linalg.det(a).item(), 4)
    ([[2.0, 3.0], [1.0, 0.5]], -2.0)
    """
    unit_lower, upper_s = _factors(lower, upper, s)
    return permutation @ unit_lower @ upper_s


def plu_inverse_weight(
    permutation: torch.Tensor, lower: torch.Tensor, upper: torch.Tensor, s: torch.Tensor
) -> torch.Tensor:
    r"""Return $A^{-1} = (U + \operatorname{diag}(s))^{-1} L^{-1} P^{\top}$ by two triangular solves.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import plu_inverse_weight, plu_weight
    >>> p, lower = torch.eye(2), torch.tensor([[0.0, 0.0], [0.5, 0.0]])
    >>> upper, s = torch.tensor([[0.0, 3.0], [0.0, 0.0]]), torch.tensor([2.0, -1.0])
    >>> (plu_inverse_weight(p, lower, upper, s) @ plu_weight(p, lower, upper, s)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    unit_lower, upper_s = _factors(lower, upper, s)
    pt = permutation.transpose(-1, -2).expand_as(unit_lower)
    tmp = torch.linalg.solve_triangular(unit_lower, pt, upper=False, unitriangular=True)
    return torch.linalg.solve_triangular(upper_s, tmp, upper=True)


def _conv(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, weight.view(*weight.shape, 1, 1))


class InvertibleConv1x1(Flow):
    r"""Invertible 1x1 convolution with a dense weight $A$: $\log|\det J| = HW \log|\det A|$.

    Parameters
    ----------
    num_channels : int
        $C$.
    weight : Tensor or None
        An invertible $C \times C$ initial weight; by default a random orthogonal matrix.
    generator : torch.Generator or None
        Random generator for the default initial weight.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import InvertibleConv1x1, jacobian_logabsdet
    >>> layer = InvertibleConv1x1(3, generator=torch.Generator().manual_seed(0)).double()
    >>> x = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> y, logdet = layer(x)
    >>> torch.allclose(logdet, jacobian_logabsdet(layer, x)), torch.allclose(layer.inverse(y), x)
    (True, True)
    """

    def __init__(
        self, num_channels: int, weight: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.num_channels = check_positive_int("num_channels", num_channels)
        if weight is None:
            weight = random_orthogonal(num_channels, generator)
        elif not torch.is_tensor(weight) or weight.shape != (num_channels, num_channels):
            raise ValueError(f"weight must be a ({num_channels}, {num_channels}) tensor")
        if not weight.is_floating_point():
            weight = weight.to(torch.get_default_dtype())
        self.weight = nn.Parameter(weight.detach().clone())
        self._slogdet()  # reject a singular initial weight now rather than at the first batch

    def extra_repr(self) -> str:
        return f"num_channels={self.num_channels}"

    def _slogdet(self) -> torch.Tensor:
        sign, logabsdet = torch.linalg.slogdet(self.weight)
        if bool(sign == 0) or not bool(torch.isfinite(logabsdet)):
            raise ValueError("weight of InvertibleConv1x1 is singular (det = 0): the layer is not invertible")
        return logabsdet

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(A x, H W log|det A|)``."""
        check_tensor_rank("x", x, 4, "(batch, C, H, W)")
        check_channels("x", x, self.num_channels)
        logdet = (x.shape[2] * x.shape[3] * self._slogdet()).expand(x.shape[0])
        return _conv(x, self.weight), logdet

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $A^{-1} y$ at every position."""
        check_tensor_rank("y", y, 4, "(batch, C, H, W)")
        check_channels("y", y, self.num_channels)
        self._slogdet()
        return _conv(y, torch.linalg.inv(self.weight))


class InvertibleConv1x1LU(Flow):
    r"""Invertible 1x1 convolution with weight $A = P L (U + \operatorname{diag}(s))$ (Glow's LU form).

    $P$ is a fixed permutation (a buffer), the strictly triangular parts of ``lower`` and ``upper`` are
    free parameters, and $s = \sigma \odot e^{\lambda}$ with fixed signs $\sigma \in \{\pm1\}^C$ (a
    buffer) and free ``log_abs_s`` $= \lambda$, so $s$ never crosses zero and
    $\log|\det J| = HW \sum_i \lambda_i$.

    Parameters
    ----------
    num_channels : int
        $C$.
    generator : torch.Generator or None
        The initial weight is the PLU factorisation of a random orthogonal matrix drawn with it.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import InvertibleConv1x1LU, jacobian_logabsdet
    >>> layer = InvertibleConv1x1LU(3, generator=torch.Generator().manual_seed(0)).double()
    >>> x = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    >>> y, logdet = layer(x)
    >>> torch.allclose(logdet, jacobian_logabsdet(layer, x)), torch.allclose(layer.inverse(y), x)
    (True, True)
    """

    def __init__(self, num_channels: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.num_channels = check_positive_int("num_channels", num_channels)
        p, lower, upper = torch.linalg.lu(random_orthogonal(num_channels, generator))
        s = torch.diagonal(upper)
        dtype = torch.get_default_dtype()
        self.register_buffer("permutation", p.to(dtype))
        self.register_buffer("sign_s", torch.sign(s).to(dtype))
        self.lower = nn.Parameter(torch.tril(lower, -1).to(dtype))
        self.upper = nn.Parameter(torch.triu(upper, 1).to(dtype))
        self.log_abs_s = nn.Parameter(torch.log(s.abs()).to(dtype))

    def extra_repr(self) -> str:
        return f"num_channels={self.num_channels}"

    def s(self) -> torch.Tensor:
        r"""Return $s = \sigma \odot e^{\lambda}$."""
        return self.sign_s * torch.exp(self.log_abs_s)

    def weight(self) -> torch.Tensor:
        r"""Return the dense weight $A = P L (U + \operatorname{diag}(s))$."""
        return plu_weight(self.permutation, self.lower, self.upper, self.s())

    def logabsdet(self) -> torch.Tensor:
        r"""Return $\log|\det A| = \sum_i \log|s_i|$."""
        return self.log_abs_s.sum()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Return ``(A x, H W sum_i log|s_i|)``."""
        check_tensor_rank("x", x, 4, "(batch, C, H, W)")
        check_channels("x", x, self.num_channels)
        logdet = (x.shape[2] * x.shape[3] * self.logabsdet()).expand(x.shape[0])
        return _conv(x, self.weight()), logdet

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $A^{-1} y$ at every position, $A^{-1}$ by triangular solves."""
        check_tensor_rank("y", y, 4, "(batch, C, H, W)")
        check_channels("y", y, self.num_channels)
        inv = plu_inverse_weight(self.permutation, self.lower, self.upper, self.s())
        return _conv(y, inv)
