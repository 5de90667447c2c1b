"""Checkpoints that survive a crash mid-write and refuse to load into the wrong architecture.

A checkpoint is one file, ``<dir>/checkpoint.pt``, holding plain tensors and Python containers only, so
that it loads with ``torch.load(weights_only=True)`` (no code from the file is ever executed):

- ``"config"``: the model's ``{"name", "kwargs"}`` dict (see :func:`dnnf.flows.build_model`);
- ``"model"``, ``"optimizer"``: state dicts;
- ``"step"``: the number of optimisation steps taken;
- ``"rng"``: generator states needed to continue the run exactly;
- ``"train_args"``: the hyper-parameters that must not change on resume;
- ``"metrics"``: the training history (list of dicts of floats).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

__all__ = ["CHECKPOINT_NAME", "check_config", "load_checkpoint", "save_checkpoint"]

#: File name of the checkpoint inside an output folder.
CHECKPOINT_NAME = "checkpoint.pt"


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically.

    The state is first saved to a temporary file in the same folder and then moved over ``path`` with
    :func:`os.replace`, which is atomic on POSIX and Windows: a crash at any moment leaves either the old
    checkpoint or the new one, never a truncated file.

    Parameters
    ----------
    state : dict
        Tensors, numbers, strings and (nested) lists/dicts of them.
    path : path
        Destination file; its folder is created if needed.

    Returns
    -------
    Path
        The destination path.
    """
    if not isinstance(state, dict):
        raise TypeError(f"state must be a dict, got {type(state).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; a checkpoint is an ordinary readable file
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    finally:
        # after a successful os.replace the temporary name no longer exists
        Path(tmp_name).unlink(missing_ok=True)
    return path


def load_checkpoint(
    path: str | os.PathLike, expected_config: dict | None = None, map_location: str | torch.device = "cpu"
) -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint`, with ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path : path
        The checkpoint file.
    expected_config : dict, optional
        The ``config`` of the model the checkpoint is meant for; a different stored config raises
        ``ValueError`` (see :func:`check_config`).
    map_location : str or torch.device
        Where to put the loaded tensors (default the CPU).

    Returns
    -------
    dict
        The stored state.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = torch.load(path, map_location=map_location, weights_only=True)
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path} is not a dnnf checkpoint (expected a dict with a 'model' entry)")
    if expected_config is not None:
        check_config(state.get("config"), expected_config, source=str(path))
    return state


def check_config(
    stored: dict | None, expected: dict | None, source: str = "checkpoint", what: str = "architecture"
) -> None:
    """Raise ``ValueError`` unless a stored description equals the expected one.

    Parameters
    ----------
    stored, expected : dict or None
        E.g. ``{"name": str, "kwargs": dict}`` architecture descriptions.
    source : str
        Where ``stored`` came from, for the message.
    what : str
        What the dicts describe, for the message.
    """
    if stored != expected:
        raise ValueError(
            f"{source} was written for {what} {stored!r}, but this run has {expected!r}; rebuild the model "
            "with dnnf.flows.build_model(checkpoint['config']), or use another output folder"
        )
