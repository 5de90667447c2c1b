"""Argument checks shared by the inpainting functions."""

from __future__ import annotations

from collections.abc import Callable

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
            f"{name} must have values in [0, 1], "
            f"got min {images.min().item():.4g} and max {images.max().item():.4g}"
        )


def check_int(name: str, value: int, minimum: int) -> int:
    """Return ``value``; raise ``ValueError`` unless it is an integer (not a bool) >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def log_prob_function(model: object) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return ``x -> log p(x)`` for ``model`` (its ``log_prob`` method, or ``model`` itself if callable).

    The returned function checks what the model gives back: a finite tensor of shape ``(B,)``. A model
    that cannot take images of the given shape (e.g. trained on another image size) raises a
    ``ValueError`` that says so instead of a deep shape error.
    """
    method = getattr(model, "log_prob", None)
    fn = method if callable(method) else model
    if not callable(fn):
        raise TypeError(f"model must have a log_prob method or be callable, got {type(model).__name__}")

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        try:
            value = fn(x)
        except (RuntimeError, ValueError) as err:
            raise ValueError(f"model could not evaluate images of shape {tuple(x.shape)}: {err}") from err
        if not torch.is_tensor(value) or value.shape != x.shape[:1]:
            shape = tuple(value.shape) if torch.is_tensor(value) else type(value).__name__
            raise ValueError(
                f"model's log_prob must return shape ({x.shape[0]},) for this batch, got {shape}"
            )
        if not bool(torch.isfinite(value).all()):
            raise ValueError("model's log_prob returned a NaN or infinite value")
        return value

    return log_prob
