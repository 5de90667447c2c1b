r"""The Gaussian kernel density estimate of a training set, a density whose conditional mean is exact.

For $p_h(x) = \frac{1}{N} \sum_{n} \mathcal N\big(x;\, x^{(n)},\, h^2 I_d\big)$ the conditional mean of the
hole is the Nadaraya-Watson regression on the known pixels:

$$
\mathbb E_h[x_U \mid y_K] = \sum_{n} w_n\, x^{(n)}_U, \qquad
w_n \propto \exp\big(-\lVert y_K - x^{(n)}_K \rVert^2 / (2 h^2)\big).
$$

As $h \to \infty$ it becomes [`mean_fill`][dnnf.inpainting.mean_fill] with the training mean; the chapter uses
it as a yardstick. Derivation:
[The conditional mean of a kernel density estimate][the-conditional-mean-of-a-kernel-density-estimate].
"""

from __future__ import annotations

import torch

from dnnf._validation import check_images, check_int, check_positive
from dnnf.inpainting.masks import expand_mask

__all__ = ["kde_conditional_mean"]


def kde_conditional_mean(
    images: torch.Tensor,
    known: torch.Tensor,
    train_images: torch.Tensor,
    bandwidth: float,
    chunk_size: int = 256,
) -> torch.Tensor:
    r"""Fill the hole with the conditional mean of the Gaussian KDE of ``train_images``.

    Parameters
    ----------
    images
        Corrupted images ``(B, C, H, W)`` in [0, 1]; only their known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``; each image may have its own.
    train_images
        ``(N, C, H, W)`` training images in [0, 1], the centres of the kernels.
    bandwidth
        The kernel's standard deviation $h > 0$ per pixel.
    chunk_size
        Images handled at once (bounds the memory of the ``(chunk, N)`` squared distances).

    Returns
    -------
    torch.Tensor
        The completions: $\sum_n w_n x^{(n)}_U$ on the hole, the known pixels unchanged.

    Examples
    --------
    With a very wide bandwidth every training image gets the same weight, so the hole is the training mean:

    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, kde_conditional_mean
    >>> train = torch.rand(50, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    >>> filled = kde_conditional_mean(torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2), train,
    ...                               bandwidth=100.0)
    >>> round(filled[0, 0, 1, 1].item(), 3) == round(train[:, 0, 1, 1].mean().item(), 3)
    True
    """
    check_images("images", images)
    check_images("train_images", train_images)
    if train_images.shape[1:] != images.shape[1:]:
        raise ValueError(
            f"train_images must have the images' (C, H, W) = {tuple(images.shape[1:])}, "
            f"got {tuple(train_images.shape[1:])}"
        )
    h = check_positive("bandwidth", bandwidth)
    chunk_size = check_int("chunk_size", chunk_size, 1)
    mask = expand_mask(known, images)
    centres = train_images.to(images).flatten(1)
    out = []
    for start in range(0, images.shape[0], chunk_size):
        y = images[start : start + chunk_size].flatten(1)
        k = mask[start : start + chunk_size].flatten(1).to(images.dtype)
        # ||y_K - x_K||^2 = sum_K y^2 - 2 y_K . x_K + sum_K x^2, one matrix product per term.
        sq = (y.square() * k).sum(1, keepdim=True) - 2 * (y * k) @ centres.T + k @ centres.square().T
        # Shift by each row's nearest distance before dividing: softmax is unchanged, the nearest kernel
        # gets logit 0, and a bandwidth so small that sq / h^2 overflows gives nearest-neighbour weights
        # (the h -> 0 limit) instead of -inf everywhere and a NaN fill.
        # In float64, and 0/0 (only where a kernel is the nearest, when h^2 underflows to 0) counts as 0.
        shifted = (sq.clamp_min(0) - sq.clamp_min(0).amin(1, keepdim=True)).double()
        logits = torch.nan_to_num(-shifted / (2 * h * h), nan=0.0, posinf=0.0)
        weights = torch.softmax(logits, dim=1).to(centres.dtype)
        out.append(weights @ centres)
    fill = torch.cat(out).view_as(images)
    return torch.where(mask, images, fill)
