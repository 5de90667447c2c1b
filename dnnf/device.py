"""The one place where dnnf decides which device to run on.

Tutorials, scripts and benchmarks call [`default_device`][dnnf.device.default_device] so that the GPU job of
the CI and a reader's laptop run exactly the same code; only the environment variable ``DNNF_DEVICE`` differs.
"""

from __future__ import annotations

import os
import re

import torch

__all__ = ["default_device"]

_ACCEPTED = "accepted values: 'cpu' (the default), 'cuda', 'cuda:<index>', 'mps' or 'auto'"


def default_device() -> torch.device:
    """Return the device named by ``DNNF_DEVICE`` (default ``"cpu"``).

    ``DNNF_DEVICE=cuda`` selects the GPU and raises a clear error when none is present;
    ``DNNF_DEVICE=auto`` takes CUDA when available and the CPU otherwise.

    Returns
    -------
    torch.device
        The device to put models and tensors on.

    Raises
    ------
    ValueError
        If ``DNNF_DEVICE`` is none of the accepted values; ``RuntimeError`` if it names a device this
        machine does not have.

    Examples
    --------
    >>> from dnnf.device import default_device
    >>> model_device = default_device()  # torch.device('cpu') unless DNNF_DEVICE says otherwise
    >>> model_device.type in ("cpu", "cuda")
    True
    """
    raw = os.environ.get("DNNF_DEVICE", "cpu")
    name = raw.strip().lower() or "cpu"
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    match = re.fullmatch(r"(cpu|cuda|mps)(?::(\d+))?", name)
    if match is None or (match[2] is not None and match[1] != "cuda"):
        raise ValueError(f"DNNF_DEVICE={raw!r} is not a device dnnf knows; {_ACCEPTED}")
    kind = match[1]
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if not available[kind]:
        check = "torch.cuda.is_available()" if kind == "cuda" else "torch.backends.mps.is_available()"
        raise RuntimeError(
            f"DNNF_DEVICE={raw!r} asks for {kind.upper()} but {check} is False on this machine; "
            f"unset DNNF_DEVICE (or set it to 'cpu' or 'auto') to run on the CPU. {_ACCEPTED}"
        )
    if match[2] is not None and int(match[2]) >= torch.cuda.device_count():
        raise RuntimeError(
            f"DNNF_DEVICE={raw!r} names GPU {match[2]}, but this machine has "
            f"{torch.cuda.device_count()} (cuda:0 to cuda:{torch.cuda.device_count() - 1})"
        )
    return torch.device(name)
