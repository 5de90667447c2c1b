"""Checkpoints that survive a crash mid-write and refuse to load into the wrong architecture.

A checkpoint is one file, ``<dir>/checkpoint.pt``, holding plain tensors and Python containers only, so
that it loads with ``torch.load(weights_only=True)`` (no code from the file is ever executed):

- ``"config"``: the model's ``{"name", "kwargs"}`` dict (see [`dnnf.flows.build_model`][]);
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

CHECKPOINT_NAME = "checkpoint.pt"
"""File name of the checkpoint inside an output folder.

Examples
--------
>>> from dnnf.training import CHECKPOINT_NAME
>>> CHECKPOINT_NAME
'checkpoint.pt'
"""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``state`` to ``path`` atomically.

    The state is first saved to a temporary file in the same folder and then moved over ``path`` with
    `os.replace`, which is atomic on POSIX and Windows: a crash at any moment leaves either the old
    checkpoint or the new one, never a truncated file.

    See [Checkpoints and interruptions][checkpoints-and-interruptions].

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

    Examples
    --------
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from dnnf.training import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
    >>> folder = Path(tempfile.mkdtemp())
    >>> path = save_checkpoint({"model": {"w": torch.ones(2)}, "step": 3}, folder / CHECKPOINT_NAME)
    >>> state = load_checkpoint(path)
    >>> state["step"], state["model"]["w"].tolist(), [p.name for p in folder.iterdir()]  # no temporary file
    (3, [1.0, 1.0], ['checkpoint.pt'])
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
    """Load a checkpoint written by [`save_checkpoint`][dnnf.training.save_checkpoint], with
    ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path : path
        The checkpoint file.
    expected_config : dict, optional
        The ``config`` of the model the checkpoint is meant for; a different stored config raises
        ``ValueError`` (see [`check_config`][dnnf.training.check_config]).
    map_location : str or torch.device
        Where to put the loaded tensors (default the CPU).

    Returns
    -------
    dict
        The stored state.

    Examples
    --------
    A checkpoint written for one architecture refuses another:

    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from dnnf.training import load_checkpoint, save_checkpoint
    >>> config = {"name": "flow_2d", "kwargs": {"num_couplings": 2}}
    >>> path = save_checkpoint({"model": {}, "config": config}, Path(tempfile.mkdtemp()) / "checkpoint.pt")
    >>> load_checkpoint(path, expected_config=config)["config"] == config
    True
    >>> load_checkpoint(path, expected_config={"name": "flow_2d", "kwargs": {"num_couplings": 4}})
    Traceback (most recent call last):
        ...
    ValueError: ... was written for architecture ...
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

    Examples
    --------
    >>> from dnnf.training import check_config
    >>> nice, glow = {"name": "nice_mnist", "kwargs": {}}, {"name": "glow_mnist", "kwargs": {}}
    >>> check_config(nice, dict(nice))  # equal: silent
    >>> check_config(nice, glow)
    Traceback (most recent call last):
        ...
    ValueError: checkpoint was written for architecture {'name': 'nice_mnist', 'kwargs': {}}, ...
    """
    if stored != expected:
        raise ValueError(
            f"{source} was written for {what} {stored!r}, but this run has {expected!r}; rebuild the model "
            "with dnnf.flows.build_model(checkpoint['config']), or use another output folder"
        )
