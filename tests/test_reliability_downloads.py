"""Full-MNIST downloads against a real HTTP server on 127.0.0.1 that misbehaves on purpose.

Every way a transfer can fail (connection cut mid-body, a server that trickles bytes, an HTTP error, a
refused connection, a wrong checksum) must end in one ``DownloadError`` that names the URL, within the
overall deadline, with nothing under the real file name and no ``.part`` file left behind.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from dnnf import data
from dnnf.data import DownloadError, load_mnist

NAME = "t10k-labels-idx1-ubyte.gz"
LABELS = np.array([7, 2, 1, 0, 4], dtype=np.uint8)
BODY = gzip.compress((0x0801).to_bytes(4, "big") + len(LABELS).to_bytes(4, "big") + LABELS.tobytes())


class Handler(http.server.BaseHTTPRequestHandler):
    """GET /<mode>/<file>: 'ok' serves BODY, 'cut' promises more than it sends, 'trickle' sends a byte
    every 0.2 s, 'missing' answers 404."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        mode = self.path.split("/")[1]
        if mode == "missing":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY) * (2 if mode == "cut" else 1)))
        self.end_headers()
        if mode == "trickle":
            for byte in BODY:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)
        else:
            self.wfile.write(BODY)  # for "cut", then close: half the promised length

    def log_message(self, *args):  # keep the test output quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _point_at(monkeypatch, url: str, md5: str | None = None) -> None:
    monkeypatch.setattr(data, "MNIST_MIRROR", url + "/")
    monkeypatch.setitem(data.MNIST_FILES, ("test", "labels"), (NAME, md5 or hashlib.md5(BODY).hexdigest()))


def _load_labels(cache: Path):
    # the labels file only: _fetch and _read_idx are what load_mnist runs for each file
    return data._read_idx(data._fetch(data.MNIST_FILES[("test", "labels")], cache / "mnist"), ndim=1)


def _nothing_saved(cache: Path) -> None:
    assert not (cache / "mnist" / NAME).exists()
    assert list((cache / "mnist").glob("*.part")) + list((cache / "mnist").glob(".*.part")) == []


def test_a_good_server_gives_the_file(server, monkeypatch, tmp_path):
    """The control case: the same server and code path succeed when nothing goes wrong."""
    _point_at(monkeypatch, server + "/ok")
    assert _load_labels(tmp_path).tolist() == LABELS.tolist()
    assert (tmp_path / "mnist" / NAME).read_bytes() == BODY


def test_a_connection_cut_mid_body_is_a_download_error(server, monkeypatch, tmp_path):
    """Used to raise a raw http.client.IncompleteRead."""
    _point_at(monkeypatch, server + "/cut")
    with pytest.raises(DownloadError, match=f"could not download {server}/cut/{NAME} .*IncompleteRead"):
        _load_labels(tmp_path)
    _nothing_saved(tmp_path)


def test_a_trickling_server_is_stopped_by_the_overall_deadline(server, monkeypatch, tmp_path):
    """One byte every 0.2 s never trips a per-read timeout; the overall deadline (here 1 s) does."""
    _point_at(monkeypatch, server + "/trickle")
    monkeypatch.setattr(data, "DOWNLOAD_DEADLINE_S", 1.0)
    started = time.monotonic()
    with pytest.raises(DownloadError, match="deadline"):
        _load_labels(tmp_path)
    assert time.monotonic() - started < 10  # the whole body would take len(BODY) * 0.2 s
    _nothing_saved(tmp_path)


def test_http_errors_refused_connections_and_bad_checksums_are_download_errors(server, monkeypatch, tmp_path):
    """404, nobody listening, a body with the wrong MD5: the same error class, each saying what happened."""
    _point_at(monkeypatch, server + "/missing")
    with pytest.raises(DownloadError, match="HTTPError: HTTP Error 404"):
        _load_labels(tmp_path)
    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    _point_at(monkeypatch, f"http://127.0.0.1:{closed}")
    with pytest.raises(DownloadError, match="URLError"):
        _load_labels(tmp_path)
    _point_at(monkeypatch, server + "/ok", md5="0" * 32)
    with pytest.raises(DownloadError, match="MD5 .*expected 0{32}; nothing was saved"):
        _load_labels(tmp_path)
    _nothing_saved(tmp_path)


def test_a_part_file_left_by_a_killed_download_is_removed(server, monkeypatch, tmp_path):
    """A process killed mid-download leaves .<name>.*.part; it used to stay in the cache forever."""
    stale = tmp_path / "mnist" / f".{NAME}.k1lled.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(BODY[:10])
    _point_at(monkeypatch, server + "/ok")
    _load_labels(tmp_path)
    assert not stale.exists()
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == [NAME]


def test_load_mnist_full_raises_the_download_error(server, monkeypatch, tmp_path):
    """The public entry point passes the one error through unchanged."""
    monkeypatch.setattr(data, "MNIST_MIRROR", server + "/cut/")
    with pytest.raises(DownloadError, match="IncompleteRead"):
        load_mnist("test", source="full", cache_dir=tmp_path)
