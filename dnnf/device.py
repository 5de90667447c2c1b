"""The one place where dnnf decides which device to run on.

Tutorials, scripts and benchmarks call [`default_device`][dnnf.device.default_device] so that the GPU job of
the CI and a reader's laptop run exactly the same code; only the environment variable ``DNNF_DEVICE`` differs.
"""

from __future__ import annotations

import os

import torch

__all__ = ["default_device"]


def default_device() -> torch.device:
    """Return the device named by ``DNNF_DEVICE`` (default ``"cpu"``).

    ``DNNF_DEVICE=cuda`` selects the GPU and raises a clear error when none is present;
    ``DNNF_DEVICE=auto`` takes CUDA when available and the CPU otherwise.

    Returns
    -------
    torch.device
        The device to put models and tensors on.

    Examples
    --------
    >>> from dnnf.device import default_device
    >>> model_device = default_device()  # torch.device('cpu') unless DNNF_DEVICE says otherwise
    >>> model_device.type in ("cpu", "cuda")
    True
    """
    name = os.environ.get("DNNF_DEVICE", "cpu").strip().lower() or "cpu"
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"DNNF_DEVICE={name!r} asks for CUDA but torch.cuda.is_available() is False; "
            "unset DNNF_DEVICE (or set it to 'cpu' or 'auto') to run on the CPU."
        )
    return device
