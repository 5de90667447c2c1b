"""Argument checks shared by the public functions: each error names the argument and the expected form."""

from __future__ import annotations

import math

import torch

__all__ = ["check_finite", "check_probability", "check_positive", "check_same_shape"]


def check_finite(name: str, x: torch.Tensor) -> None:
    """Raise ``ValueError`` if tensor ``x`` (argument ``name``) has a NaN or an infinity."""
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf entries)")


def check_probability(name: str, p: float) -> float:
    """Return ``float(p)``; raise ``ValueError`` unless ``0 < p < 1``."""
    value = float(p)
    if not (0.0 < value < 1.0) or math.isnan(value):
        raise ValueError(f"{name} must be a probability strictly between 0 and 1, got {p!r}")
    return value


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``float(value)``; raise ``ValueError`` unless it is positive (or zero when allowed)."""
    v = float(value)
    ok = v >= 0.0 if allow_zero else v > 0.0
    if not ok or math.isnan(v):
        expected = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return v


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Raise ``ValueError`` if ``a`` and ``b`` do not have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )
