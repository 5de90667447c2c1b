"""Files that go wrong: bad checkpoints, killed writers, two runs into one folder, a poisoned model cache.

Each test names the failure it guards against; the tiny stand-in flow of ``test_training.py`` keeps the
training runs to milliseconds, and the subprocess tests to a few seconds (mostly importing torch).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from test_training import StandIn, _images, _params
from test_training_pretrained import TINY, _script

from dnnf.training import (
    CHECKPOINT_NAME,
    PRETRAINED_RECIPES,
    CheckpointError,
    OutputLockedError,
    load_checkpoint,
    load_or_train_mnist_flow,
    pretrained_checkpoint_path,
    save_checkpoint,
    train_flow,
)
from dnnf.training.checkpoint import output_lock

ROOT = Path(__file__).resolve().parents[1]


def _good_checkpoint(folder: Path) -> Path:
    train_flow(StandIn(), _images(), steps=2, batch_size=8, progress=False, checkpoint_dir=folder)
    return folder / CHECKPOINT_NAME


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Every way a checkpoint file was seen to be bad, with what the error must say."""
    good = _good_checkpoint(folder / "good").read_bytes()
    cases: dict[str, tuple[bytes | dict, str]] = {
        "truncated": (good[: len(good) // 2], "not a complete zip archive"),
        "zero bytes": (b"", "is empty"),
        "random bytes": (bytes(range(256)) * 40, "not a complete zip archive"),
        "not a dict": ([1, 2, 3], "is not a dnnf checkpoint"),
        "no model entry": ({"step": 3}, "is not a dnnf checkpoint"),
        "NaN weights": ({"model": {"mu": torch.full((3,), float("nan"))}}, "non-finite weights .*'mu'"),
        "inf weights": ({"model": {"w": torch.tensor([1.0, float("inf")])}}, "non-finite weights .*'w'"),
    }
    out = {}
    for name, (content, message) in cases.items():
        path = folder / name.replace(" ", "_") / CHECKPOINT_NAME
        path.parent.mkdir(parents=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            torch.save(content, path)
        out[name] = (path, message)
    return out


@pytest.mark.slow
def test_every_bad_checkpoint_file_is_one_clear_error_naming_it(tmp_path):
    """They used to raise raw RuntimeError, EOFError, KeyError or UnpicklingError (whose text suggests
    weights_only=False)."""
    for name, (path, message) in _bad_files(tmp_path).items():
        with pytest.raises(CheckpointError, match=message) as caught:
            load_checkpoint(path)
        text = str(caught.value)
        assert str(path) in text and "weights_only" not in text, (name, text)
        assert caught.value.path == path


def test_resuming_from_a_checkpoint_without_training_state_is_a_clear_error(tmp_path):
    """A dict with model weights only used to fail with KeyError: 'train_args'."""
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint({"model": StandIn().state_dict(), "config": StandIn().config}, path)
    missing = r"lacks \['optimizer', 'step', 'rng', 'train_args', 'metrics'\]"
    with pytest.raises(CheckpointError, match=missing):
        train_flow(StandIn(), _images(), steps=2, batch_size=8, progress=False, checkpoint_dir=tmp_path)


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), 0.0, "1e-3"])
def test_a_bad_learning_rate_is_refused_before_training(tmp_path, lr):
    """lr=inf used to train to all-NaN weights, save them, and return normally."""
    model = StandIn()
    with pytest.raises((ValueError, TypeError), match="lr must be"):
        train_flow(model, _images(), steps=3, batch_size=8, lr=lr, progress=False, checkpoint_dir=tmp_path)
    assert model.calls == 0 and not (tmp_path / CHECKPOINT_NAME).exists()


class FarOut(StandIn):
    """The stand-in plus a parameter at -3.3e38 with a small positive gradient: loss and gradient stay
    finite, but Adam's first step (about lr in size) pushes it past float32's largest value."""

    def __init__(self):
        super().__init__()
        self.extra = torch.nn.Parameter(torch.tensor(-3.3e38))

    def log_prob(self, x):
        return super().log_prob(x) - self.extra * 1e-5


def test_non_finite_parameters_stop_training_at_that_step_and_are_never_saved(tmp_path):
    """Parameters that overflow while loss and gradient are finite used to be trained on and saved."""
    with pytest.raises(FloatingPointError, match="non-finite .* at step 1: extra; nothing from this step"):
        train_flow(
            FarOut(), _images(), steps=4, batch_size=8, lr=3e37, progress=False, checkpoint_dir=tmp_path,
            checkpoint_every=1,
        )  # fmt: skip
    assert not (tmp_path / CHECKPOINT_NAME).exists()


def test_a_checkpoint_dir_that_is_a_file_is_refused_before_training(tmp_path):
    """It used to be noticed only when the first checkpoint was written, after the training ran."""
    a_file = tmp_path / "runs"
    a_file.write_text("not a folder")
    model = StandIn()
    with pytest.raises(ValueError, match=f"checkpoint_dir must be a folder, but {a_file} is an existing"):
        train_flow(model, _images(), steps=3, batch_size=8, progress=False, checkpoint_dir=a_file)
    assert model.calls == 0


def test_stale_temporary_checkpoints_are_removed_by_the_next_run(tmp_path):
    """A process killed mid-write leaves .checkpoint.pt.*.tmp (2.7 MB for NICE); they used to stay forever."""
    stale = [tmp_path / ".checkpoint.pt.k1lled.tmp", tmp_path / ".checkpoint.pt.x9.tmp"]
    for path in stale:
        path.write_bytes(b"half a checkpoint")
    train_flow(StandIn(), _images(), steps=1, batch_size=8, progress=False, checkpoint_dir=tmp_path)
    assert not any(path.exists() for path in stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".train.lock", CHECKPOINT_NAME]


def test_a_folder_in_use_by_another_run_is_refused(tmp_path):
    """Two runs into one folder used to both report success while one overwrote the other."""
    with output_lock(tmp_path):
        with pytest.raises(OutputLockedError, match=f"{tmp_path} is in use by another training run"):
            train_flow(StandIn(), _images(), steps=1, batch_size=8, progress=False, checkpoint_dir=tmp_path)
    assert not (tmp_path / CHECKPOINT_NAME).exists()
    train_flow(StandIn(), _images(), steps=1, batch_size=8, progress=False, checkpoint_dir=tmp_path)


def _hold_lock_in_another_process(folder: Path) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sys, time
        from dnnf.training.checkpoint import output_lock
        with output_lock({str(folder)!r}):
            print("locked", flush=True)
            time.sleep(120)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


@pytest.mark.slow
def test_a_second_train_flow_script_into_the_same_out_fails_clearly(tmp_path):
    """scripts/train_flow.py while another process trains into the same --out: an exit message, no run."""
    holder = _hold_lock_in_another_process(tmp_path)
    try:
        args = ["--arch", "nice", "--batch-size", "8", "--out", str(tmp_path), "--steps", "1"]
        with pytest.raises(SystemExit, match="train_flow.py: .* is in use by another training run"):
            _script().main(args)
        assert not (tmp_path / CHECKPOINT_NAME).exists()
    finally:
        holder.kill()
        holder.wait()
    # the kernel drops a dead process's lock: the folder is usable again at once
    with output_lock(tmp_path):
        pass


_KILLED_WRITER = """
import sys, time, torch
sys.path.insert(0, {tests!r})
from test_training import StandIn, _images
from dnnf.training import train_flow

real_save = torch.save
def slow_save(obj, handle, *args, **kwargs):
    if obj["step"] == 6:  # the second checkpoint: write half of it, then wait to be killed
        handle.write(b"half a checkpoint")
        handle.flush()
        print("writing", flush=True)
        time.sleep(120)
    return real_save(obj, handle, *args, **kwargs)
torch.save = slow_save
train_flow(StandIn(), _images(), steps=12, batch_size=8, progress=False,
           checkpoint_dir={folder!r}, checkpoint_every=3)
"""


@pytest.mark.slow
def test_sigkill_during_a_checkpoint_write_resumes_bit_identically(tmp_path):
    """SIGKILL mid-write leaves the old checkpoint (step 3) and a stale .tmp; the resumed run removes the
    .tmp and ends with exactly the parameters and losses of an uninterrupted run."""
    images = _images()
    reference = StandIn()
    expected = train_flow(reference, images, steps=12, batch_size=8, progress=False)

    folder = tmp_path / "b"
    code = _KILLED_WRITER.format(tests=str(ROOT / "tests"), folder=str(folder))
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait()
    assert writer.returncode == -signal.SIGKILL
    assert load_checkpoint(folder / CHECKPOINT_NAME)["step"] == 3
    assert list(folder.glob(".checkpoint.pt.*.tmp")), "the killed write should have left its temporary file"

    resumed_model = StandIn()
    resumed = train_flow(
        resumed_model, images, steps=12, batch_size=8, progress=False, checkpoint_dir=folder,
        checkpoint_every=3,
    )  # fmt: skip
    assert not list(folder.glob("*.tmp"))
    assert resumed.train_bpd == expected.train_bpd
    for name, value in _params(reference).items():
        assert torch.equal(value, resumed_model.state_dict()[name]), name


@pytest.mark.slow
def test_an_unreadable_pretrained_checkpoint_is_moved_aside_and_retrained(tmp_path, monkeypatch):
    """A corrupt file in the model cache used to make every later call fail until someone deleted it."""
    monkeypatch.setitem(PRETRAINED_RECIPES, "tiny", TINY)
    path = pretrained_checkpoint_path("tiny", cache_dir=tmp_path)
    path.parent.mkdir(parents=True)
    for content in (b"", b"\x00garbage", {"model": {"w": torch.full((2,), float("nan"))}}):
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            torch.save(content, path)
        stale = path.parent / ".checkpoint.pt.dead.tmp"
        stale.write_bytes(b"left by a killed process")
        with pytest.warns(RuntimeWarning, match=f"checkpoint {path} .*moved it to .*unreadable-.* training"):
            model = load_or_train_mnist_flow("tiny", cache_dir=tmp_path, progress=False)
        assert not stale.exists()
        assert load_checkpoint(path, expected_config=TINY["config"])["step"] == TINY["train"]["steps"]
        weights = [v for v in model.state_dict().values() if v.is_floating_point()]
        assert all(bool(torch.isfinite(v).all()) for v in weights)
        path.unlink()
    assert len(list(path.parent.glob("checkpoint.pt.unreadable-*"))) >= 1


def test_a_stale_temporary_next_to_a_complete_pretrained_checkpoint_is_removed(tmp_path, monkeypatch):
    """The cache also cleans up when it only loads (nothing to train)."""
    monkeypatch.setitem(PRETRAINED_RECIPES, "tiny", dict(TINY, train=dict(TINY["train"], steps=1)))
    load_or_train_mnist_flow("tiny", cache_dir=tmp_path, progress=False)
    path = pretrained_checkpoint_path("tiny", cache_dir=tmp_path)
    stale = path.parent / ".checkpoint.pt.dead.tmp"
    stale.write_bytes(b"x")
    started = time.monotonic()
    load_or_train_mnist_flow("tiny", cache_dir=tmp_path, progress=False)
    assert not stale.exists() and time.monotonic() - started < 60


_PRETRAINED_WORKER = """
import hashlib, sys
sys.path.insert(0, {tests!r})
import torch
from test_training_pretrained import TINY
from dnnf.training import PRETRAINED_RECIPES, load_or_train_mnist_flow
from dnnf.training import pretrained

calls = []
real = pretrained.train_flow
def counting(*args, **kwargs):
    calls.append(1)
    return real(*args, **kwargs)
pretrained.train_flow = counting
PRETRAINED_RECIPES["tiny"] = TINY
model = load_or_train_mnist_flow("tiny", cache_dir={cache!r}, progress=False)
digest = hashlib.sha256(b"".join(v.numpy().tobytes() for v in model.state_dict().values())).hexdigest()
print(len(calls), digest)
"""


@pytest.mark.slow
def test_two_processes_asking_for_one_pretrained_model_share_one_result(tmp_path):
    """Two notebooks starting at once: one trains, the other waits for the cache lock and loads it."""
    code = _PRETRAINED_WORKER.format(tests=str(ROOT / "tests"), cache=str(tmp_path))
    command = [sys.executable, "-c", code]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in "ab"]
    outputs = [worker.communicate(timeout=600)[0].split() for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert sorted(int(trained) for trained, _ in outputs) == [0, 1], outputs
    assert outputs[0][1] == outputs[1][1]
