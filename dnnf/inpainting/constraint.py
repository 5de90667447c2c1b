r"""The constraint set of inpainting: the box $C$ of completions, and a starting point inside it.

Every inpainting method (the ascent, projected Langevin, MALA) searches the same set
$C = \{x \in [0, 1]^d : x_i = y_i \text{ for } i \in K\}$, a box, so they all take its bounds and
their starting point from here.
"""

from __future__ import annotations

import torch

from dnnf._validation import check_images
from dnnf.inpainting.baselines import diffusion_fill, mean_fill
from dnnf.inpainting.masks import expand_mask
from dnnf.projection import project_box

__all__ = ["box_bounds", "initial_fill"]


def box_bounds(images: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The bounds $(\ell, u)$ of the constraint box $C$: $\ell_i = u_i = y_i$ if known, else $[0, 1]$.

    Parameters
    ----------
    images
        Images ``(B, C, H, W)`` in [0, 1]; only the known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``.

    Returns
    -------
    tuple of torch.Tensor
        ``(lower, upper)``, each of the images' shape, to pass to [`dnnf.projection.project_box`][].

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import box_bounds, centre_square_mask
    >>> lower, upper = box_bounds(torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2))
    >>> lower[0, 0, 1].tolist(), upper[0, 0, 1].tolist()  # a row through the hole
    ([0.75, 0.0, 0.0, 0.75], [0.75, 1.0, 1.0, 0.75])
    """
    check_images("images", images)
    mask = expand_mask(known, images)
    return torch.where(mask, images, 0.0), torch.where(mask, images, 1.0)


def initial_fill(images: torch.Tensor, known: torch.Tensor, init: str | torch.Tensor) -> torch.Tensor:
    """The starting point $x_0$: the images with their hole filled by ``init``, projected onto $C$.

    ``init`` is ``"zeros"`` (the hole black, as in a corrupted image), ``"mean"`` (the mean of the image's
    known pixels, [`mean_fill`][dnnf.inpainting.mean_fill]), ``"diffusion"``
    ([`diffusion_fill`][dnnf.inpainting.diffusion_fill]) or a tensor of the images' shape whose hole pixels
    are used.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, initial_fill
    >>> images, known = torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2)
    >>> initial_fill(images, known, "zeros")[0, 0, 1].tolist()
    [0.75, 0.0, 0.0, 0.75]
    >>> initial_fill(images, known, "mean")[0, 0, 1].tolist()
    [0.75, 0.75, 0.75, 0.75]
    """
    lower, upper = box_bounds(images, known)
    if torch.is_tensor(init):
        if init.shape != images.shape:
            raise ValueError(
                f"init must have the images' shape {tuple(images.shape)}, got {tuple(init.shape)}"
            )
        start = init.to(images)
    elif init == "zeros":
        start = torch.zeros_like(images)
    elif init == "mean":
        start = mean_fill(images, known)
    elif init == "diffusion":
        start = diffusion_fill(images, known)
    else:
        raise ValueError(f"init must be 'zeros', 'mean', 'diffusion' or a tensor, got {init!r}")
    return project_box(start.detach(), lower, upper)
