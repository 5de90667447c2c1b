r"""Masks for inpainting: which pixels are observed and which must be filled in.

Convention used throughout `dnnf.inpainting`: a mask is a boolean tensor called ``known``,
``True`` where the pixel is observed and ``False`` on the hole. A mask's name says what is *missing*:
``"left"`` hides the left half, ``"centre"`` hides a centred square.

A mask of shape ``(H, W)``, ``(C, H, W)`` or ``(B, C, H, W)`` is accepted wherever images of shape ``(B, C, H,
W)`` are; [`expand_mask`][dnnf.inpainting.expand_mask] broadcasts it and rejects masks that leave nothing to
fill in or nothing to condition on.
"""

from __future__ import annotations

import torch

from dnnf._validation import check_generator, check_int, check_probability

__all__ = ["MASK_KINDS", "centre_square_mask", "half_mask", "random_pixel_mask", "make_mask", "expand_mask"]

MASK_KINDS = ("centre", "left", "right", "top", "bottom", "random")
"""The mask kinds [`make_mask`][dnnf.inpainting.make_mask] builds (each names the part that is missing).

Examples
--------
>>> from dnnf.inpainting import MASK_KINDS
>>> MASK_KINDS
('centre', 'left', 'right', 'top', 'bottom', 'random')
"""


# an image side beyond this is a typo, not an image (2**15 x 2**15 booleans is already 1 GiB)
_MAX_SIDE = 2**15


def _check_size(height: int, width: int) -> None:
    check_int("height", height, minimum=2, maximum=_MAX_SIDE)
    check_int("width", width, minimum=2, maximum=_MAX_SIDE)


def centre_square_mask(height: int = 28, width: int = 28, size: int | None = None) -> torch.Tensor:
    """Known mask with a centred ``size`` x ``size`` square missing.

    Parameters
    ----------
    height, width
        Image size in pixels.
    size
        Side of the missing square; default half the shorter side (14 for MNIST, a quarter of the pixels).

    Returns
    -------
    torch.Tensor
        Boolean ``(height, width)``, ``False`` on the square.

    Examples
    --------
    >>> from dnnf.inpainting import centre_square_mask
    >>> centre_square_mask(4, 4, size=2).int().tolist()  # 1 = known, 0 = missing
    [[1, 1, 1, 1], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]]
    """
    _check_size(height, width)
    if size is None:
        size = min(height, width) // 2
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size < min(height, width):
        raise ValueError(f"size must be an integer in [1, {min(height, width) - 1}], got {size!r}")
    known = torch.ones(height, width, dtype=torch.bool)
    top, left = (height - size) // 2, (width - size) // 2
    known[top : top + size, left : left + size] = False
    return known


def half_mask(side: str, height: int = 28, width: int = 28) -> torch.Tensor:
    """Known mask with one half of the image missing.

    Parameters
    ----------
    side
        ``"left"``, ``"right"``, ``"top"`` or ``"bottom"``: the half that is missing.
    height, width
        Image size in pixels.

    Returns
    -------
    torch.Tensor
        Boolean ``(height, width)``, ``False`` on the missing half.

    Examples
    --------
    >>> from dnnf.inpainting import half_mask
    >>> half_mask("top", 2, 2).int().tolist()  # the top half is missing
    [[0, 0], [1, 1]]
    """
    _check_size(height, width)
    known = torch.ones(height, width, dtype=torch.bool)
    if side == "left":
        known[:, : width // 2] = False
    elif side == "right":
        known[:, width // 2 :] = False
    elif side == "top":
        known[: height // 2, :] = False
    elif side == "bottom":
        known[height // 2 :, :] = False
    else:
        raise ValueError(f"side must be 'left', 'right', 'top' or 'bottom', got {side!r}")
    return known


def random_pixel_mask(
    shape: tuple[int, ...] = (28, 28),
    missing_fraction: float = 0.5,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Known mask with exactly ``round(missing_fraction * H * W)`` pixels missing per image.

    The missing pixels are a uniformly random subset of each image's ``H * W`` pixels, drawn
    independently per image (and shared by the channels).

    Parameters
    ----------
    shape
        ``(H, W)`` for one mask, or ``(B, 1, H, W)`` for one independent mask per image.
    missing_fraction
        Fraction of pixels to hide, strictly between 0 and 1.
    generator
        Random number generator (CPU) for reproducible masks.

    Returns
    -------
    torch.Tensor
        Boolean tensor of the given ``shape``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import random_pixel_mask
    >>> known = random_pixel_mask((3, 3), 0.5, generator=torch.Generator().manual_seed(0))
    >>> int((~known).sum())  # round(0.5 * 9) pixels missing
    4
    """
    check_generator("generator", generator)
    if not isinstance(shape, tuple | list | torch.Size) or len(shape) not in (2, 4):
        raise TypeError(f"shape must be a tuple (H, W) or (B, 1, H, W) of integers, got {shape!r}")
    for i, size in enumerate(shape):
        check_int(f"shape[{i}]", size, minimum=1 if i < len(shape) - 2 else 2)
    if len(shape) == 4 and shape[1] != 1:
        raise ValueError(f"shape must be (H, W) or (B, 1, H, W), got {tuple(shape)!r}")
    height, width = int(shape[-2]), int(shape[-1])
    _check_size(height, width)
    fraction = check_probability("missing_fraction", missing_fraction)
    num_pixels = height * width
    num_missing = min(max(round(fraction * num_pixels), 1), num_pixels - 1)
    batch = 1 if len(shape) == 2 else int(shape[0])
    # argsort of iid uniforms is a uniformly random permutation: its first entries are the hole.
    order = torch.rand(batch, num_pixels, generator=generator).argsort(dim=1)
    known = torch.ones(batch, num_pixels, dtype=torch.bool)
    known.scatter_(1, order[:, :num_missing], False)
    return known.reshape(shape)


def make_mask(
    kind: str,
    height: int = 28,
    width: int = 28,
    *,
    size: int | None = None,
    missing_fraction: float = 0.5,
    generator: torch.Generator | None = None,
    num_images: int | None = None,
) -> torch.Tensor:
    """Build a known mask of one of the [`MASK_KINDS`][dnnf.inpainting.MASK_KINDS] by name.

    Parameters
    ----------
    kind
        ``"centre"`` (square hole, side ``size``), ``"left"``, ``"right"``, ``"top"``, ``"bottom"``
        (that half missing) or ``"random"`` (a ``missing_fraction`` of the pixels missing).
    height, width
        Image size in pixels.
    size, missing_fraction, generator
        Passed to [`centre_square_mask`][dnnf.inpainting.centre_square_mask] and
        [`random_pixel_mask`][dnnf.inpainting.random_pixel_mask].
    num_images
        For ``"random"``: draw one independent mask per image, shape ``(num_images, 1, height, width)``,
        so that error bars over images include mask-to-mask variation. The block kinds have no
        randomness and ignore it. ``None`` (default): one ``(height, width)`` mask shared by all images.

    Returns
    -------
    torch.Tensor
        Boolean ``(height, width)`` mask (or one per image, see ``num_images``), ``True`` where the
        pixel is known.

    Examples
    --------
    >>> from dnnf.inpainting import make_mask
    >>> make_mask("left", 2, 4).int().tolist()
    [[0, 0, 1, 1], [0, 0, 1, 1]]
    """
    if num_images is not None and (
        isinstance(num_images, bool) or not isinstance(num_images, int) or num_images < 1
    ):
        raise ValueError(f"num_images must be a positive int or None, got {num_images!r}")
    if kind == "centre":
        return centre_square_mask(height, width, size)
    if kind in ("left", "right", "top", "bottom"):
        return half_mask(kind, height, width)
    if kind == "random":
        shape = (height, width) if num_images is None else (num_images, 1, height, width)
        return random_pixel_mask(shape, missing_fraction, generator)
    raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")


def expand_mask(known: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Check a known mask against a batch of images and broadcast it to their shape.

    Parameters
    ----------
    known
        Boolean mask of shape ``(H, W)``, ``(C, H, W)`` or ``(B, C, H, W)`` (size-1 dims broadcast).
    images
        Images of shape ``(B, C, H, W)``.

    Returns
    -------
    torch.Tensor
        Boolean mask of the images' shape on the images' device.

    Raises
    ------
    TypeError
        If ``known`` is not a boolean tensor.
    ValueError
        If the shapes do not broadcast, or some image has no missing pixel (nothing to inpaint) or no
        known pixel (nothing to condition on).

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, expand_mask
    >>> expand_mask(centre_square_mask(4, 4, size=2), torch.zeros(2, 1, 4, 4)).shape
    torch.Size([2, 1, 4, 4])
    """
    if not torch.is_tensor(known) or known.dtype != torch.bool:
        raise TypeError(f"known must be a boolean torch.Tensor (True = observed pixel), got {known!r:.60}")
    if not torch.is_tensor(images) or images.dim() != 4:
        raise TypeError(f"images must be a torch.Tensor of shape (B, C, H, W), got {images!r:.60}")
    if known.dim() not in (2, 3, 4):
        raise ValueError(f"known must have shape (H, W), (C, H, W) or (B, C, H, W), got {tuple(known.shape)}")
    if known.shape[-2:] != images.shape[-2:]:
        raise ValueError(
            f"known has spatial size {tuple(known.shape[-2:])} but the images are {tuple(images.shape[-2:])}"
        )
    try:
        expanded = torch.broadcast_to(known.to(images.device), images.shape)
    except RuntimeError:
        raise ValueError(
            f"known of shape {tuple(known.shape)} does not broadcast to images of shape {tuple(images.shape)}"
        ) from None
    per_image = expanded.flatten(1)
    if bool(per_image.all(dim=1).any()):
        raise ValueError("known marks every pixel of some image as observed: there is nothing to inpaint")
    if bool((~per_image).all(dim=1).any()):
        raise ValueError("known marks every pixel of some image as missing: there is nothing to condition on")
    return expanded
