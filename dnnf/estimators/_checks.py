"""Argument checks shared by the estimators (each error names the argument and the expected form)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.distributions import Distribution

__all__ = ["check_distribution", "check_num_samples", "evaluate_f"]


def check_distribution(dist: object) -> Distribution:
    """Return ``dist``; raise ``TypeError`` unless it is a ``torch.distributions.Distribution``."""
    if not isinstance(dist, Distribution):
        raise TypeError(f"dist must be a torch.distributions.Distribution, got {type(dist).__name__}")
    return dist


def check_num_samples(num_samples: object, *, minimum: int = 1) -> int:
    """Return ``num_samples`` as an ``int``; raise unless it is an integer of at least ``minimum``."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, int):
        raise TypeError(f"num_samples must be an int, got {type(num_samples).__name__}")
    if num_samples < minimum:
        raise ValueError(f"num_samples must be an integer >= {minimum}, got {num_samples}")
    return num_samples


def evaluate_f(
    f: Callable[[torch.Tensor], torch.Tensor], z: torch.Tensor, dist: Distribution
) -> torch.Tensor:
    """Return ``f(z)`` after checking that it has one value per draw: shape ``(n, *dist.batch_shape)``."""
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    values = f(z)
    if not torch.is_tensor(values):
        raise TypeError(f"f must return a torch.Tensor, got {type(values).__name__}")
    expected = z.shape[:1] + dist.batch_shape
    if values.shape != expected:
        raise ValueError(
            f"f must return one value per draw, a tensor of shape (num_samples, *dist.batch_shape) = "
            f"{tuple(expected)}, got {tuple(values.shape)} (draws have shape {tuple(z.shape)})"
        )
    return values
