r"""Bits per dimension, the unit in which image-model likelihoods are compared.

Integer data $k \in \{0, \dots, 255\}^D$ are dequantized as $x = (k + u)/256$, $u \sim U[0,1)^D$. The
variable $y = k + u = 256\,x$ has density $p_Y(y) = p_X(x) / 256^{D}$, and by Jensen's inequality
$\log P(k) = \log \mathbb{E}_u\, p_Y(k + u) \ge \mathbb{E}_u \log p_Y(k + u)$, so

$$
\text{bits/dim} = -\frac{\log p_X(x) - D \log 256}{D \log 2}
$$

is, on average over $u$, an upper bound on the discrete model's code length per dimension. For MNIST
$D = 784$ (no padding to $32 \times 32$).
"""

from __future__ import annotations

import math

import torch

__all__ = ["bits_per_dim"]


def bits_per_dim(log_prob_x: torch.Tensor, num_dims: int = 784, num_levels: int = 256) -> torch.Tensor:
    r"""Convert $\log p_X(x)$ (natural log, $x \in [0,1]^D$) to bits per dimension.

    $$
    \text{bpd} = -\frac{\log p_X(x) - D \log L}{D \log 2}, \qquad L = \text{num\_levels}.
    $$

    Parameters
    ----------
    log_prob_x : Tensor
        Log-densities in pixel space $[0, 1]^D$, any shape (e.g. ``(batch,)``).
    num_dims : int
        $D$, the number of dimensions of one sample (784 for MNIST).
    num_levels : int
        $L$, the number of quantization levels (256 for 8-bit data).

    Returns
    -------
    Tensor
        Bits per dimension, same shape as ``log_prob_x``.
    """
    if not torch.is_tensor(log_prob_x):
        raise TypeError(f"log_prob_x must be a torch.Tensor, got {type(log_prob_x).__name__}")
    if isinstance(num_dims, bool) or not isinstance(num_dims, int) or num_dims < 1:
        raise ValueError(f"num_dims must be a positive int, got {num_dims!r}")
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 2:
        raise ValueError(f"num_levels must be an int >= 2, got {num_levels!r}")
    return -(log_prob_x - num_dims * math.log(num_levels)) / (num_dims * math.log(2))
