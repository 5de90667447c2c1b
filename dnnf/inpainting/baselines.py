r"""Baselines that fill the hole without a model of digits.

* **Mean fill** puts a fixed value in each missing pixel: the per-pixel mean image of a training set when
  one is given, otherwise the mean of the image's own known pixels.
* **Diffusion (neighbour-average) fill** makes every missing pixel the average of its four neighbours,
  i.e. solves the discrete Laplace equation on the hole $U$ with the known pixels as boundary values:

$$
x_i = \frac{1}{4} \sum_{j \sim i} x_j \quad (i \in U), \qquad x_i = y_i \quad (i \notin U),
$$

  where a neighbour outside the image is replaced by the pixel itself (a zero-flux border). Its solution
  is the smoothest completion (it minimises $\sum_{i \sim j} (x_i - x_j)^2$ over the hole) and, as an
  average of known values, stays in $[0, 1]$. It is computed by Jacobi iteration until the largest
  change is below ``tol``. See [Baselines][baselines].
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from dnnf._validation import check_images, check_positive
from dnnf.inpainting.masks import expand_mask

__all__ = ["mean_fill", "diffusion_fill"]


def mean_fill(
    images: torch.Tensor, known: torch.Tensor, mean_image: torch.Tensor | None = None
) -> torch.Tensor:
    """Fill the missing pixels with a mean.

    Parameters
    ----------
    images
        Corrupted images ``(B, C, H, W)`` in [0, 1]; only their known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``.
    mean_image
        Optional ``(C, H, W)`` image in [0, 1] (e.g. the training-set mean) whose pixels fill the hole.
        Default: each image's mean over its own known pixels.

    Returns
    -------
    torch.Tensor
        The filled images, known pixels unchanged.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, mean_fill
    >>> images = torch.tensor([0.0, 1.0]).repeat(8).view(1, 1, 4, 4)  # columns alternate 0 and 1
    >>> mean_fill(images, centre_square_mask(4, 4, size=2))[0, 0, 1].tolist()
    [0.0, 0.5, 0.5, 1.0]
    """
    check_images("images", images)
    mask = expand_mask(known, images)
    if mean_image is None:
        flat, flat_mask = images.flatten(1), mask.flatten(1)
        per_image = (flat * flat_mask).sum(dim=1) / flat_mask.sum(dim=1)
        fill = per_image.view(-1, 1, 1, 1).expand_as(images)
    else:
        if not torch.is_tensor(mean_image) or mean_image.shape != images.shape[1:]:
            shape = tuple(mean_image.shape) if torch.is_tensor(mean_image) else type(mean_image).__name__
            raise ValueError(
                f"mean_image must be a tensor of shape (C, H, W) = {tuple(images.shape[1:])}, got {shape}"
            )
        check_images("mean_image", mean_image.unsqueeze(0))
        fill = mean_image.to(images).expand_as(images)
    return torch.where(mask, images, fill)


def diffusion_fill(
    images: torch.Tensor,
    known: torch.Tensor,
    tol: float = 1e-6,
    num_steps: int = 20_000,
) -> torch.Tensor:
    """Fill the missing pixels by repeated neighbour averaging (harmonic inpainting).

    Parameters
    ----------
    images
        Corrupted images ``(B, C, H, W)`` in [0, 1]; only their known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``.
    tol
        An image stops when none of its pixels changes by more than ``tol`` in one sweep.
    num_steps
        Most Jacobi sweeps; a ``RuntimeWarning`` is issued if ``tol`` is not reached.

    Returns
    -------
    torch.Tensor
        The filled images, known pixels unchanged.

    Examples
    --------
    Harmonic interpolation reproduces a linear ramp exactly:

    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, diffusion_fill
    >>> ramp = torch.linspace(0.0, 1.0, 4).repeat(4, 1).view(1, 1, 4, 4)
    >>> [round(v, 4) for v in diffusion_fill(ramp, centre_square_mask(4, 4, size=2))[0, 0, 1].tolist()]
    [0.0, 0.3333, 0.6667, 1.0]
    """
    check_images("images", images)
    mask = expand_mask(known, images)
    tol = check_positive("tol", tol)
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}")
    channels = images.shape[1]
    kernel = images.new_tensor([[0.0, 0.25, 0.0], [0.25, 0.0, 0.25], [0.0, 0.25, 0.0]])
    kernel = kernel.expand(channels, 1, 3, 3)
    # Start from the mean of the known pixels: already the right level, so fewer sweeps are needed.
    x = mean_fill(images, mask)
    # Each image stops on its own change, so a batch gives the same fills as one image at a time.
    active = torch.ones(images.shape[0], dtype=torch.bool, device=images.device)
    for _ in range(num_steps):
        # Replicate padding: a neighbour outside the image is the border pixel itself (zero flux).
        average = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel, groups=channels)
        updated = torch.where(mask | ~active.view(-1, 1, 1, 1), x, average)
        change = (updated - x).flatten(1).abs().amax(dim=1)
        x = updated
        active &= change > tol
        if not bool(active.any()):
            return x
    warnings.warn(
        f"diffusion_fill did not reach tol={tol} in {num_steps} sweeps "
        f"(last change {change.max().item():.2e})",
        RuntimeWarning,
        stacklevel=2,
    )
    return x
