r"""Bits per dimension, the unit in which image-model likelihoods are compared.

For data dequantized as $x = (k + u)/256$, $u \sim U[0,1)^D$,

$$
\text{bits/dim} = -\frac{\log p_X(x) - D \log 256}{D \log 2}
$$

is, on average over $u$, an upper bound on the discrete model's code length per dimension (Jensen's
inequality:
[Dequantization][dequantization-the-logit-transform-and-bits-per-dimension]).
For MNIST $D = 784$ (no padding to $32 \times 32$).
"""

from __future__ import annotations

import math

import torch

from dnnf._validation import check_int, check_positive_int
from dnnf.data import dequantize

__all__ = ["bits_per_dim", "importance_weighted_bits_per_dim"]


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

    Examples
    --------
    A uniform density on $[0, 1]^D$ ($\log p = 0$) costs exactly 8 bits per dimension at 256 levels:

    >>> import torch
    >>> from dnnf.flows import bits_per_dim
    >>> bits_per_dim(torch.tensor([0.0, 0.0]), num_dims=784).tolist()
    [8.0, 8.0]
    """
    if not torch.is_tensor(log_prob_x):
        raise TypeError(f"log_prob_x must be a torch.Tensor, got {type(log_prob_x).__name__}")
    check_positive_int("num_dims", num_dims)
    check_int("num_levels", num_levels, minimum=2)
    return -(log_prob_x - num_dims * math.log(num_levels)) / (num_dims * math.log(2))


@torch.no_grad()
def importance_weighted_bits_per_dim(
    model: torch.nn.Module,
    images: torch.Tensor,
    num_samples: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""The $S$-sample importance-weighted bound on the code length of each image, in bits per dimension.

    With $u_1, \dots, u_S$ i.i.d. uniform on $[0,1)^D$ (the proposal $q(u) = 1$ of uniform
    dequantization) and $P(k) = \mathbb{E}_u\, p_Y(k + u)$,

    $$
    \mathcal L_S(k) = \log \frac1S \sum_{s=1}^S p_Y(k + u_s), \qquad
    \text{bpd}_S(k) = -\frac{\mathcal L_S(k)}{D \log 2},
    $$

    where $\log p_Y(k+u) = \log p_X((k+u)/256) - D\log 256$. Jensen's inequality gives
    $\mathbb{E}\,\mathcal L_S \le \log P(k)$; $\mathbb{E}\,\mathcal L_S$ increases with $S$ (the mean of $S$
    weights is the average of the means of its subsets of size $S-1$, and $\log$ is concave) and
    tends to $\log P(k)$ by the law of large numbers (Burda et al., 2016). $S = 1$ is the usual bound
    of [`bits_per_dim`][dnnf.flows.bits_per_dim].

    Parameters
    ----------
    model : nn.Module
        Has ``log_prob(x) -> (batch,)`` with $x \in [0,1]^D$ (natural log, pixel space).
    images : Tensor
        ``uint8`` pixel levels $k$ of shape ``(N, ...)``.
    num_samples : int
        $S \ge 1$, dequantization draws per image.
    generator : torch.Generator or None
        Source of the uniform noise (on the CPU).

    Returns
    -------
    Tensor
        ``(N,)`` float64 bits per dimension, one per image.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import importance_weighted_bits_per_dim, nice_mnist
    >>> gen = torch.Generator().manual_seed(0)
    >>> images = torch.randint(0, 256, (4, 1, 4, 4), dtype=torch.uint8, generator=gen)
    >>> model = nice_mnist(image_shape=(1, 4, 4), hidden=16, num_hidden_layers=1)
    >>> bpd = importance_weighted_bits_per_dim(model, images, 64, generator=torch.Generator().manual_seed(0))
    >>> [round(v, 1) for v in bpd.tolist()]
    [7.7, 7.9, 7.7, 7.6]
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a positive int, got {num_samples!r}")
    if not torch.is_tensor(images) or images.dim() < 2:
        raise ValueError("images must be a uint8 tensor of shape (N, ...) with pixel levels 0..255")
    reference = next(model.parameters(), None)
    dtype = reference.dtype if reference is not None else torch.float32
    device = reference.device if reference is not None else images.device
    num_dims = math.prod(images.shape[1:])
    log_probs = torch.stack(
        [
            model.log_prob(
                dequantize(images.cpu(), generator=generator).to(device=device, dtype=dtype)
            ).double()
            for _ in range(num_samples)
        ]
    )
    log_mean = torch.logsumexp(log_probs, dim=0) - math.log(num_samples)
    return bits_per_dim(log_mean, num_dims=num_dims)
