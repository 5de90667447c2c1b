"""Argument checks shared by the inpainting functions."""

from __future__ import annotations

import torch

from dnnf._validation import check_finite


def check_images(name: str, images: torch.Tensor) -> None:
    """Raise unless ``images`` is a finite floating ``(B, C, H, W)`` tensor with values in [0, 1]."""
    if not torch.is_tensor(images):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(images).__name__}")
    if not images.is_floating_point():
        raise TypeError(
            f"{name} must be a floating tensor with values in [0, 1], got dtype {images.dtype} "
            "(convert uint8 pixels with dnnf.data.to_unit_interval)"
        )
    if images.dim() != 4:
        raise ValueError(f"{name} must have shape (B, C, H, W), got {tuple(images.shape)}")
    check_finite(name, images)
    if bool((images < 0).any()) or bool((images > 1).any()):
        raise ValueError(
            f"{name} must have values in [0, 1], got min {images.min().item():.4g} and max {images.max().item():.4g}"
        )
