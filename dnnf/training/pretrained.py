"""The project's own pretrained MNIST flows: loaded from the cache, or trained there on first use.

Nothing is downloaded. The first call trains the model deterministically (fixed seed, fixed recipe) on
the offline training split with [`train_flow`][dnnf.training.train_flow] (scoring the held-out split every
250 steps) and writes the checkpoint atomically
into the cache; later calls, from any notebook, load it. An interrupted first call resumes where its
last checkpoint stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from dnnf.data import default_cache_dir, load_mnist
from dnnf.flows import NormalizingFlow, build_model
from dnnf.training.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    OutputLockedError,
    load_checkpoint,
    output_lock,
    remove_stale_temporaries,
    require_training_state,
)
from dnnf.training.loop import train_flow

__all__ = [
    "PRETRAINED_RECIPES",
    "load_or_train_mnist_flow",
    "pretrained_cache_key",
    "pretrained_checkpoint_path",
]

PRETRAINED_RECIPES: dict[str, dict] = {
    "nice": {
        "version": 1,
        "config": {
            "name": "nice_mnist",
            "kwargs": {"image_shape": (1, 28, 28), "num_couplings": 4, "hidden": 256,
                       "num_hidden_layers": 3, "logit_alpha": 0.05, "seed": 0},
        },
        "train": {"steps": 1500, "batch_size": 64, "lr": 1e-3, "seed": 0, "grad_clip": 100.0},
    },
    "glow": {
        "version": 1,
        "config": {
            "name": "glow_mnist",
            "kwargs": {"image_shape": (1, 28, 28), "num_levels": 2, "steps_per_level": 4,
                       "hidden_channels": 32, "conv": "lu", "coupling": "affine", "logit_alpha": 0.05,
                       "seed": 0},
        },
        "train": {"steps": 1000, "batch_size": 64, "lr": 1e-3, "seed": 0, "grad_clip": 100.0},
    },
    # The inpainting chapter's models: trained on images with Gaussian noise of standard deviation 0.1,
    # so they fit the smoothed density p_data * N(0, 0.1^2 I); no logit, since the noisy data leave [0, 1].
    "nice_smoothed": {
        "version": 1,
        "config": {
            "name": "nice_mnist",
            "kwargs": {"image_shape": (1, 28, 28), "num_couplings": 4, "hidden": 256,
                       "num_hidden_layers": 3, "logit_alpha": None, "seed": 0},
        },
        "train": {"steps": 1500, "batch_size": 64, "lr": 1e-3, "seed": 0, "grad_clip": 100.0,
                  "noise_std": 0.1},
    },
    "glow_smoothed": {
        "version": 1,
        "config": {
            "name": "glow_mnist",
            "kwargs": {"image_shape": (1, 28, 28), "num_levels": 2, "steps_per_level": 4,
                       "hidden_channels": 64, "conv": "lu", "coupling": "affine", "logit_alpha": None,
                       "seed": 0},
        },
        "train": {"steps": 1500, "batch_size": 64, "lr": 1e-3, "seed": 0, "grad_clip": 100.0,
                  "noise_std": 0.1},
    },
}  # fmt: skip
"""How each pretrained model is built and trained. The recipe is part of the cache key
([`pretrained_cache_key`][dnnf.training.pretrained_cache_key]), so a changed recipe never loads a
checkpoint trained with an old one.

Examples
--------
>>> from dnnf.training import PRETRAINED_RECIPES
>>> sorted(PRETRAINED_RECIPES), PRETRAINED_RECIPES["nice"]["train"]["steps"]
(['glow', 'glow_smoothed', 'nice', 'nice_smoothed'], 1500)
"""


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    # Two notebooks (or test workers) asking for the same model at once: the second waits for the
    # first to finish training and then loads its checkpoint instead of training a second copy.
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows has no flock; both callers then train the same deterministic model
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_or_set_aside(path: Path, config: dict, device: torch.device) -> dict | None:
    # A file that cannot be used (truncated, zero bytes, foreign, non-finite weights, ...) would make
    # every later call fail until someone found and deleted it: move it aside, say so, and retrain.
    if not path.is_file():
        return None
    try:
        state = load_checkpoint(path, config, map_location=device)
        require_training_state(state, path)
        return state
    except CheckpointError as err:
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        message = f"{err}; moved it to {aside} and training the model again"
        warnings.warn(message, RuntimeWarning, stacklevel=3)
        return None


def _remove_stale_temporaries(folder: Path) -> None:
    # Temporary checkpoints left by a killed run; a run writing there right now holds the output lock
    # and cleans up after itself.
    try:
        with output_lock(folder):
            remove_stale_temporaries(folder)
    except OutputLockedError:
        pass


#: The code a trained model depends on (relative to the dnnf package): the data it reads, the model
#: definitions and the training loop. A byte changed here gives new cache keys, so no model trained by
#: older code is ever loaded.
_TRAINING_CODE = ("data.py", "flows", "training")


def pretrained_cache_key(arch: str = "nice") -> str:
    """Return the 16-hex-digit key of the ``arch`` model: a hash of its recipe and of the training code.

    The key covers the recipe ``PRETRAINED_RECIPES[arch]``, the bytes of ``dnnf/data.py``,
    ``dnnf/flows/**.py`` and ``dnnf/training/**.py``, and the torch version (training is deterministic
    for a given torch build). The checkpoint lives under a folder named after it, and CI's model cache
    is keyed by the same files.

    Examples
    --------
    >>> from dnnf.training import pretrained_cache_key
    >>> key = pretrained_cache_key("nice")
    >>> len(key), key == pretrained_cache_key("nice"), key != pretrained_cache_key("glow")
    (16, True, True)
    """
    if not isinstance(arch, str) or arch not in PRETRAINED_RECIPES:
        raise ValueError(f"arch must be one of {sorted(PRETRAINED_RECIPES)}, got {arch!r}")
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(json.dumps(PRETRAINED_RECIPES[arch], sort_keys=True).encode())
    digest.update(torch.__version__.encode())
    for name in _TRAINING_CODE:
        files = sorted((package / name).rglob("*.py")) if (package / name).is_dir() else [package / name]
        for path in files:
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def pretrained_checkpoint_path(arch: str = "nice", cache_dir: str | os.PathLike | None = None) -> Path:
    """Return where the pretrained ``arch`` model's checkpoint lives (it may not exist yet).

    Parameters
    ----------
    arch : {"nice", "glow", "nice_smoothed", "glow_smoothed"}
        Which model.
    cache_dir : path, optional
        Cache root (default [`dnnf.data.default_cache_dir`][], i.e. ``$DNNF_CACHE_DIR`` or
        ``~/.cache/dnnf``).

    Returns
    -------
    Path
        ``<cache_dir>/flows/mnist-<arch>-<key>/checkpoint.pt``, ``key`` from
        [`pretrained_cache_key`][dnnf.training.pretrained_cache_key].

    Examples
    --------
    >>> from dnnf.training import pretrained_cache_key, pretrained_checkpoint_path
    >>> path = pretrained_checkpoint_path("nice", cache_dir="/tmp/cache")
    >>> key = pretrained_cache_key("nice")
    >>> path.relative_to("/tmp/cache").as_posix() == f"flows/mnist-nice-{key}/checkpoint.pt"
    True
    """
    key = pretrained_cache_key(arch)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / "flows" / f"mnist-{arch}-{key}" / CHECKPOINT_NAME


def load_or_train_mnist_flow(
    arch: str = "nice",
    cache_dir: str | os.PathLike | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> NormalizingFlow:
    """Return the project's pretrained MNIST flow in eval mode, training and caching it on first use.

    The smoothed models: [Training on smoothed data][training-on-smoothed-data].

    Parameters
    ----------
    arch : {"nice", "glow", "nice_smoothed", "glow_smoothed"}
        ``"nice"``: [`dnnf.flows.nice_mnist`][]; ``"glow"``: [`dnnf.flows.glow_mnist`][], with the sizes and
        training recipe of [`PRETRAINED_RECIPES`][dnnf.training.PRETRAINED_RECIPES]. The ``_smoothed`` models
        are trained on images with Gaussian noise (``noise_std`` of [`dnnf.training.train_flow`][]) for
        inpainting.
    cache_dir : path, optional
        Cache root (default ``$DNNF_CACHE_DIR`` or ``~/.cache/dnnf``).
    device : torch.device or str, optional
        Where to train and return the model (default: the CPU).
    progress : bool
        Show a progress bar while training.

    Returns
    -------
    NormalizingFlow
        The trained model, in eval mode, on ``device``.

    Examples
    --------
    Not run by the test suite (the first call trains for a few CPU minutes; later calls load the cache):

    >>> from dnnf.training import load_or_train_mnist_flow
    >>> model = load_or_train_mnist_flow("nice")  # doctest: +SKIP
    >>> model.config["name"]  # doctest: +SKIP
    'nice_mnist'
    """
    path = pretrained_checkpoint_path(arch, cache_dir)
    recipe = PRETRAINED_RECIPES[arch]
    device = torch.device(device if device is not None else "cpu")
    model = build_model(recipe["config"]).to(device)
    train = recipe["train"]
    with _exclusive(path.parent / ".lock"):
        state = _load_or_set_aside(path, recipe["config"], device)
        if state is not None and int(state["step"]) >= train["steps"]:
            model.load_state_dict(state["model"])
            _remove_stale_temporaries(path.parent)
        else:
            images, _ = load_mnist("train")
            held_out, _ = load_mnist("test")
            train_flow(
                model, images, **train, eval_images=held_out, eval_every=250,
                checkpoint_dir=path.parent, checkpoint_every=250, progress=progress,
            )  # fmt: skip
    return model.eval()
