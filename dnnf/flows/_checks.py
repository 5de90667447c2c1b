"""Shape checks shared by the flow layers; each error names the argument and the expected form."""

from __future__ import annotations

import torch


def check_tensor_rank(name: str, x: torch.Tensor, rank: int | tuple[int, ...], form: str) -> None:
    """Raise ``TypeError`` unless ``x`` is a tensor and ``ValueError`` unless ``x.dim()`` is in ``rank``."""
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    ranks = (rank,) if isinstance(rank, int) else rank
    if x.dim() not in ranks:
        raise ValueError(f"{name} must have shape {form}, got a tensor of shape {tuple(x.shape)}")


def check_channels(name: str, x: torch.Tensor, expected: int) -> None:
    """Raise ``ValueError`` unless ``x.shape[1] == expected``."""
    if x.shape[1] != expected:
        raise ValueError(f"{name} must have {expected} channels in dim 1, got shape {tuple(x.shape)}")


def check_positive_int(name: str, value: int) -> int:
    """Return ``value``; raise ``ValueError`` unless it is a positive int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value
