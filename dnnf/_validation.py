"""Argument checks for the whole library: each error names the argument and the expected form.

Every public function checks its arguments here, at the boundary, so that a bad value fails at once
with a ``TypeError`` (wrong kind of object) or a ``ValueError`` (right kind, wrong value) instead of a
NaN result or an error from deep inside torch or numpy. Numbers are *finite* unless a check says
otherwise, and counts are integers (never a bool, a float, NaN or a string).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch
from torch.distributions import Distribution

__all__ = [
    "check_channels",
    "check_distribution",
    "check_finite",
    "check_finite_number",
    "check_generator",
    "check_images",
    "check_int",
    "check_num_samples",
    "check_positive",
    "check_positive_int",
    "check_probability",
    "check_same_shape",
    "check_seed",
    "check_tensor_rank",
    "evaluate_f",
    "log_prob_function",
]

_MAX_INT64 = 2**63 - 1
# torch.Generator.manual_seed and numpy's default_rng both accept seeds in this range.
_MAX_SEED = _MAX_INT64


def _real(name: str, value: object, expected: str) -> float:
    """Return ``float(value)`` for a real number (not a bool, not a string); ``TypeError`` otherwise."""
    if torch.is_tensor(value) and value.numel() == 1 and not value.is_complex():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__} {value!r}")
    return float(value)


def check_finite_number(name: str, value: object) -> float:
    """Return ``float(value)``; raise unless it is a real number other than NaN and ±inf."""
    v = _real(name, value, "a finite real number")
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    return v


def check_positive(name: str, value: object, *, allow_zero: bool = False, allow_inf: bool = False) -> float:
    """Return ``float(value)``; raise unless it is positive (or zero when allowed) and finite (or +inf
    when allowed)."""
    expected = ("non-negative" if allow_zero else "positive") + ("" if allow_inf else " and finite")
    v = _real(name, value, f"a real number, {expected}")
    ok = v >= 0.0 if allow_zero else v > 0.0
    if not ok or math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return v


def check_probability(name: str, p: object) -> float:
    """Return ``float(p)``; raise unless ``0 < p < 1``."""
    value = _real(name, p, "a probability strictly between 0 and 1")
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a probability strictly between 0 and 1, got {p!r}")
    return value


def check_int(name: str, value: object, minimum: int = 0, maximum: int | None = None) -> int:
    """Return ``int(value)``; raise unless it is an integer (no bool, no float) in ``[minimum, maximum]``.

    Without ``maximum`` the bound is the largest int64 (what a tensor or numpy array can hold).
    """
    bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
    top = _MAX_INT64 if maximum is None else maximum
    # 2.5, 3.0, nan, inf: a count is never a float (TypeError, as for range(2.5))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer {bound}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")
    if value > top:
        limit = "" if maximum is not None else f" and at most {top} (int64)"
        raise ValueError(f"{name} must be an integer {bound}{limit}, got {value!r}")
    return int(value)


def check_positive_int(name: str, value: object) -> int:
    """Return ``value`` as an ``int``; raise unless it is an integer >= 1."""
    return check_int(name, value, minimum=1)


def check_seed(name: str, value: object) -> int:
    """Return ``value`` as an ``int``; raise unless it is an integer in ``[0, 2**63 - 1]``."""
    return check_int(name, value, minimum=0, maximum=_MAX_SEED)


def check_num_samples(num_samples: object, *, minimum: int = 1) -> int:
    """Return ``num_samples`` as an ``int``; raise unless it is an integer of at least ``minimum``."""
    return check_int("num_samples", num_samples, minimum=minimum)


def check_generator(name: str, generator: object) -> None:
    """Raise ``TypeError`` unless ``generator`` is ``None`` or a ``torch.Generator``."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator or None, got {type(generator).__name__}")


def check_finite(name: str, x: object) -> None:
    """Raise ``TypeError`` unless ``x`` is a tensor and ``ValueError`` if it has a NaN or an infinity."""
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.is_floating_point() or x.is_complex():
        if not bool(torch.isfinite(x).all()):
            raise ValueError(f"{name} must be finite (no NaN or inf entries)")


def check_tensor_rank(name: str, x: object, rank: int | tuple[int, ...], form: str) -> None:
    """Raise ``TypeError`` unless ``x`` is a tensor and ``ValueError`` unless ``x.dim()`` is in ``rank``.

    Finiteness is checked once where data enter a model (``NormalizingFlow.log_prob``), not in every
    layer: on a GPU each check is a synchronisation.
    """
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    ranks = (rank,) if isinstance(rank, int) else rank
    if x.dim() not in ranks:
        raise ValueError(f"{name} must have shape {form}, got a tensor of shape {tuple(x.shape)}")


def check_channels(name: str, x: torch.Tensor, expected: int) -> None:
    """Raise ``ValueError`` unless ``x.shape[1] == expected``."""
    if x.shape[1] != expected:
        raise ValueError(f"{name} must have {expected} channels in dim 1, got shape {tuple(x.shape)}")


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Raise ``ValueError`` if ``a`` and ``b`` do not have the same shape."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_images(name: str, images: object) -> None:
    """Raise unless ``images`` is a finite floating ``(B, C, H, W)`` tensor with values in [0, 1]."""
    if not torch.is_tensor(images):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(images).__name__}")
    if not images.is_floating_point():
        raise TypeError(
            f"{name} must be a floating tensor with values in [0, 1], got dtype {images.dtype} "
            "(convert uint8 pixels with dnnf.data.to_unit_interval)"
        )
    if images.dim() != 4 or images.shape[0] == 0:
        raise ValueError(f"{name} must have shape (B, C, H, W) with B >= 1, got {tuple(images.shape)}")
    check_finite(name, images)
    if bool((images < 0).any()) or bool((images > 1).any()):
        raise ValueError(
            f"{name} must have values in [0, 1], "
            f"got min {images.min().item():.4g} and max {images.max().item():.4g}"
        )


def check_distribution(dist: object) -> Distribution:
    """Return ``dist``; raise ``TypeError`` unless it is a ``torch.distributions.Distribution``."""
    if not isinstance(dist, Distribution):
        raise TypeError(f"dist must be a torch.distributions.Distribution, got {type(dist).__name__}")
    return dist


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
