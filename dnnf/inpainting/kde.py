r"""The Gaussian kernel density estimate of a training set, a density whose conditional mean is exact.

The kernel density estimate (KDE) of $N$ training images $x^{(1)}, \dots, x^{(N)} \in [0, 1]^d$ with
bandwidth $h$ is

$$
p_h(x) = \frac{1}{N} \sum_{n=1}^{N} \mathcal N\big(x;\, x^{(n)},\, h^2 I_d\big).
$$

Because the covariance is a multiple of the identity, each component factorises over $K$ and $U$, and
conditioning on $x_K = y_K$ only reweights the components:

$$
p_h(x_U \mid y_K) = \sum_{n} w_n\, \mathcal N\big(x_U;\, x^{(n)}_U,\, h^2 I\big), \qquad
w_n = \frac{\exp\big(-\lVert y_K - x^{(n)}_K \rVert^2 / (2 h^2)\big)}
           {\sum_{m} \exp\big(-\lVert y_K - x^{(m)}_K \rVert^2 / (2 h^2)\big)},
$$

so its conditional mean, the completion with the least expected squared error under $p_h$, is the
Nadaraya-Watson kernel regression of the hole on the known pixels:

$$
\mathbb E_h[x_U \mid y_K] = \sum_{n} w_n\, x^{(n)}_U .
$$

Its two limits are familiar: as $h \to 0$ it copies the hole of the nearest training image (on the
known pixels), and as $h \to \infty$ all weights tend to $1/N$ and it becomes the training set's mean
image, i.e. :func:`~dnnf.inpainting.mean_fill` with ``mean_image``. The chapter uses it as a yardstick:
what a density model that has only these $N$ digits can be expected to reach.
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
