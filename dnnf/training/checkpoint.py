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
import pickle
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import torch

from dnnf._files import file_lock

__all__ = [
    "CHECKPOINT_NAME",
    "CheckpointError",
    "OutputLockedError",
    "check_config",
    "load_checkpoint",
    "output_lock",
    "remove_stale_temporaries",
    "save_checkpoint",
]

CHECKPOINT_NAME = "checkpoint.pt"
"""File name of the checkpoint inside an output folder.

Examples
--------
>>> from dnnf.training import CHECKPOINT_NAME
>>> CHECKPOINT_NAME
'checkpoint.pt'
"""

#: What `dnnf.training.train_flow` stores, and needs to resume.
TRAINING_KEYS = ("config", "model", "optimizer", "step", "rng", "train_args", "metrics")

# The lock file of a training run's output folder (see output_lock).
_LOCK_NAME = ".train.lock"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: unreadable, truncated, foreign, incomplete or non-finite.

    The message names the file and what is wrong with it; ``path`` holds the file.
    """

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"checkpoint {self.path} {problem}")


class OutputLockedError(RuntimeError):
    """Another training run holds the output folder (see `output_lock`)."""


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

    Raises
    ------
    CheckpointError
        If the file is empty, truncated, not a torch checkpoint, holds objects other than plain data,
        has no model state dict, or has a NaN or infinite weight; the message names the file.

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
    state = _read(path, map_location)
    if not isinstance(state, dict) or "model" not in state or not isinstance(state["model"], dict):
        raise CheckpointError(path, "is not a dnnf checkpoint (expected a dict with a 'model' state dict)")
    for name, value in state["model"].items():
        if torch.is_tensor(value) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(path, f"holds non-finite weights (NaN or inf) in {name!r}")
    if expected_config is not None:
        check_config(state.get("config"), expected_config, source=str(path))
    return state


def _read(path: Path, map_location: str | torch.device) -> Any:
    """``torch.load(weights_only=True)`` with every way a file can be bad turned into a CheckpointError."""
    if path.stat().st_size == 0:
        raise CheckpointError(path, "is empty (0 bytes): a write that never finished; delete it")
    # torch.save writes a zip archive; a truncated one has no central directory at its end.
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            path, "is not a torch checkpoint (not a complete zip archive): truncated or another kind of file"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # torch's note on odd pickle protocols
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's own text suggests weights_only=False, i.e. running code from the file: never do that.
        raise CheckpointError(
            path,
            "holds Python objects other than tensors, numbers, strings and containers, which dnnf never "
            "unpickles (it may not come from dnnf, or it was tampered with)",
        ) from err
    except (RuntimeError, EOFError, OSError, KeyError, ValueError, AttributeError, IndexError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(path, f"could not be read: {first_line}") from err


def require_training_state(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Raise ``CheckpointError`` unless ``state`` has every entry that resuming a training run needs."""
    missing = [key for key in TRAINING_KEYS if key not in state]
    if missing:
        raise CheckpointError(
            path, f"lacks {missing}: it was not written by dnnf.training.train_flow, so it cannot be resumed"
        )
    if isinstance(state["step"], bool) or not isinstance(state["step"], int) or state["step"] < 0:
        raise CheckpointError(path, f"has step {state['step']!r}, expected a non-negative int")


@contextmanager
def output_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold ``<folder>/.train.lock`` for the duration of a training run, or fail at once.

    Two runs writing checkpoints into the same folder would overwrite each other's files while both
    report success; the second one raises ``OutputLockedError`` instead. The lock is an advisory
    ``flock``, released by the kernel if the process dies (none on Windows).
    """
    folder = Path(folder)
    with ExitStack() as held:
        try:
            held.enter_context(file_lock(folder / _LOCK_NAME, wait=False))
        except BlockingIOError:
            raise OutputLockedError(
                f"{folder} is in use by another training run (it holds {folder / _LOCK_NAME}); wait for "
                "it to finish, or write to another folder"
            ) from None
        yield


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that a killed `save_checkpoint` left in ``folder``.

    Call it only while holding `output_lock` of the folder: then no write is in progress, and
    every ``.<name>.*.tmp`` file there is left over from a process that died mid-write.

    Returns
    -------
    list of Path
        The files removed.
    """
    removed = []
    for stale in sorted(Path(folder).glob(".*.*.tmp")):
        stale.unlink(missing_ok=True)
        removed.append(stale)
    return removed


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
