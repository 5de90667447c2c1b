"""Tests for dnnf.training: the loop, resumable atomic checkpoints and the errors for bad input.

Most tests use a tiny stand-in flow (an ActNorm-like per-pixel Gaussian with a data-dependent first
forward) on 6x6 images so that they take milliseconds; the last test trains the real NICE model.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dnnf.training import (
    CHECKPOINT_NAME,
    CheckpointError,
    evaluate_bits_per_dim,
    load_checkpoint,
    rank_slice,
    save_checkpoint,
    train_flow,
)


class StandIn(nn.Module):
    r"""$x \mapsto z = (x - \mu)e^{-s}$ per pixel, standard normal base; $\mu$ set from the first batch."""

    def __init__(self, shape=(1, 6, 6), fail_at_call: int | None = None, nan_at_call: int | None = None):
        super().__init__()
        self.mu = nn.Parameter(torch.zeros(shape))
        self.log_scale = nn.Parameter(torch.zeros(shape))
        self.register_buffer("initialised", torch.tensor(False))
        self.config = {"name": "stand_in", "kwargs": {"shape": list(shape)}}
        self.calls = 0
        self.fail_at_call, self.nan_at_call = fail_at_call, nan_at_call

    def log_prob(self, x):
        self.calls += 1
        if self.calls == self.fail_at_call:
            raise KeyboardInterrupt("simulated interruption")
        if not bool(self.initialised):
            with torch.no_grad():
                self.mu.copy_(x.mean(0))
                self.initialised.fill_(True)
        z = (x - self.mu) * torch.exp(-self.log_scale)
        out = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi) - self.log_scale).flatten(1).sum(1)
        return out * float("nan") if self.calls == self.nan_at_call else out

    def forward(self, x):
        return self.log_prob(x)


def _images(n=64, seed=0):
    return torch.randint(
        0, 256, (n, 1, 6, 6), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8
    )


def _params(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.claim("flows/training.md#eq-l", note="decreases under the loop")
def test_training_reduces_held_out_bits_per_dim():
    """Page flows/training, (L): a few Adam steps on a fixed seed lower the held-out bits/dim."""
    torch.manual_seed(0)
    model = StandIn()
    train, held_out = _images(256, seed=0), _images(128, seed=1)
    model.log_prob(torch.full((2, 1, 6, 6), 0.9))  # a deliberately bad initialisation
    before = evaluate_bits_per_dim(model, held_out)
    result = train_flow(model, train, steps=60, batch_size=32, lr=0.05, progress=False, eval_images=held_out)
    assert result.step == 60 and len(result.train_bpd) == 60
    assert result.eval_bpd[-1][0] == 60 and result.eval_bpd[-1][1] < before - 0.5
    assert sum(result.train_bpd[-10:]) < sum(result.train_bpd[:10])


@pytest.mark.claim("flows/training.md#checkpoints-and-interruptions", note="exact resumption")
def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path):
    """Page flows/training, "Exact resumption": killed at step 8, resumed from step 6, same end point."""
    images = _images()
    reference = StandIn()
    train_flow(reference, images, steps=12, batch_size=8, progress=False, checkpoint_dir=tmp_path / "a")

    interrupted = StandIn(fail_at_call=9)  # call 1 is the initialisation pass, call k+1 is step k
    with pytest.raises(KeyboardInterrupt):
        train_flow(
            interrupted, images, steps=12, batch_size=8, progress=False,
            checkpoint_dir=tmp_path / "b", checkpoint_every=3,
        )  # fmt: skip
    assert load_checkpoint(tmp_path / "b" / CHECKPOINT_NAME)["step"] == 6
    resumed_model = StandIn()
    resumed = train_flow(
        resumed_model, images, steps=12, batch_size=8, progress=False,
        checkpoint_dir=tmp_path / "b", checkpoint_every=3,
    )  # fmt: skip
    assert resumed.step == 12 and len(resumed.train_bpd) == 12
    for name, value in _params(reference).items():
        assert torch.equal(value, resumed_model.state_dict()[name]), name
    ref_state = load_checkpoint(tmp_path / "a" / CHECKPOINT_NAME)
    assert ref_state["metrics"]["train_bpd"] == resumed.train_bpd


@pytest.mark.claim("flows/training.md#checkpoints-and-interruptions", note="atomic writes")
def test_crash_while_writing_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    """Page flows/training, "Atomic writes": a crash mid-write leaves the old checkpoint and no temp file."""
    path = tmp_path / CHECKPOINT_NAME
    save_checkpoint({"model": {"w": torch.ones(3)}, "step": 1}, path)

    def dying_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint({"model": {"w": torch.zeros(3)}, "step": 2}, path)
    monkeypatch.undo()
    state = load_checkpoint(path)
    assert state["step"] == 1 and torch.equal(state["model"]["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == [CHECKPOINT_NAME]


@pytest.mark.claim("flows/training.md#checkpoints-and-interruptions", note="safe loading")
def test_checkpoint_loads_only_weights(tmp_path):
    """Page flows/training, "Safe loading": a file that pickles arbitrary objects is refused."""
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": StandIn}, path)
    with pytest.raises(CheckpointError, match="holds Python objects other than tensors") as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value) and "weights_only" not in str(caught.value)


@pytest.mark.claim("flows/training.md#checkpoints-and-interruptions", note="safe loading")
def test_architecture_mismatch_is_a_clear_error(tmp_path):
    """Page flows/training, "Safe loading": another architecture or other hyper-parameters are refused."""
    images = _images()
    train_flow(StandIn(), images, steps=2, batch_size=8, progress=False, checkpoint_dir=tmp_path)
    other = StandIn(shape=(1, 6, 6))
    other.config = {"name": "stand_in", "kwargs": {"shape": [1, 6, 6], "hidden": 3}}
    with pytest.raises(ValueError, match="architecture .*'hidden': 3"):
        train_flow(other, images, steps=4, batch_size=8, progress=False, checkpoint_dir=tmp_path)
    with pytest.raises(ValueError, match="architecture"):
        load_checkpoint(tmp_path / CHECKPOINT_NAME, expected_config=other.config)
    with pytest.raises(ValueError, match="hyper-parameters"):
        train_flow(StandIn(), images, steps=4, batch_size=16, progress=False, checkpoint_dir=tmp_path)


@pytest.mark.claim("flows/training.md#the-objective-and-the-loop", note="a non-finite loss")
def test_nan_loss_stops_with_a_clear_error():
    """Page flows/training, "Non-finite loss": training stops before the step; last finite parameters kept."""
    images = _images()
    good = StandIn()
    train_flow(good, images, steps=4, batch_size=8, progress=False)
    bad = StandIn(nan_at_call=6)  # step 5 produces NaN
    with pytest.raises(FloatingPointError, match="non-finite training loss nan .* step 5"):
        train_flow(bad, images, steps=10, batch_size=8, progress=False)
    for name, value in _params(good).items():
        assert torch.equal(value, bad.state_dict()[name]), name


def test_bad_inputs_raise_named_errors():
    """Wrong dtypes and shapes are rejected at the boundary with the argument's name."""
    images = _images()
    with pytest.raises(TypeError, match="train_images must be a uint8"):
        train_flow(StandIn(), images.float(), steps=1, progress=False)
    with pytest.raises(ValueError, match=r"train_images must have shape \(N, C, H, W\)"):
        train_flow(StandIn(), images[:, 0], steps=1, progress=False)
    with pytest.raises(ValueError, match="eval_images must have image shape"):
        train_flow(StandIn(), images, steps=1, eval_images=images[:, :, :5], progress=False)
    with pytest.raises(ValueError, match="steps must be an integer >= 1"):
        train_flow(StandIn(), images, steps=0, progress=False)
    with pytest.raises(ValueError, match="divisible by the number of processes"):
        rank_slice(torch.zeros(10, 3), rank=0, world_size=4)
    with pytest.raises(TypeError, match="state must be a dict"):
        save_checkpoint([1, 2], "unused.pt")


@pytest.mark.claim("flows/training.md#eq-l", note=r"held-out mean and its standard error $s/\sqrt{N}$")
def test_evaluation_mean_and_standard_error_match_per_image_values():
    """Page flows/training, held-out bits/dim: the mean of (L) over the images and its error s/sqrt(N)."""
    from dnnf.data import dequantize
    from dnnf.flows import bits_per_dim

    model, images = StandIn(), _images(50)
    mean, stderr = evaluate_bits_per_dim(model, images, batch_size=7, seed=4, return_stderr=True)
    with torch.no_grad():
        per_image = bits_per_dim(model.log_prob(dequantize(images, torch.Generator().manual_seed(4))), 36)
    assert math.isclose(mean, float(per_image.double().mean()), rel_tol=1e-6)
    assert math.isclose(stderr, float(per_image.double().std() / math.sqrt(50)), rel_tol=1e-5)
    assert evaluate_bits_per_dim(model, images, batch_size=7, seed=4) == mean


@pytest.mark.claim("inpainting/smoothed-models.md#eq-13", "flows/training.md#training-on-smoothed-data")
def test_noise_std_trains_on_the_smoothed_density(tmp_path):
    """Page flows/training and loop.py: with noise_std = s the data are x + s * N(0, 1). A per-pixel
    Gaussian fitted by maximum likelihood to a constant image then has standard deviation about s (the
    dequantisation adds only 1/(256 sqrt(12)) = 0.0011); without the noise it collapses to about that."""
    images = torch.full((64, 1, 6, 6), 128, dtype=torch.uint8)
    fitted = {}
    for noise in (0.0, 0.2):
        model = StandIn()
        result = train_flow(
            model, images, steps=400, batch_size=64, lr=0.05, noise_std=noise, progress=False,
            checkpoint_dir=tmp_path / str(noise),
        )  # fmt: skip
        fitted[noise] = model.log_scale.exp().mean().item()
        stored = load_checkpoint(result.checkpoint)["train_args"]
        assert stored.get("noise_std", 0.0) == noise
    assert fitted[0.0] < 0.01
    assert fitted[0.2] == pytest.approx(0.2, rel=0.05)
    with pytest.raises(ValueError, match="training hyper-parameters"):
        train_flow(StandIn(), images, steps=401, batch_size=64, lr=0.05, noise_std=0.3, progress=False,
                   checkpoint_dir=tmp_path / "0.2")  # fmt: skip
    with pytest.raises(ValueError, match="noise_std must be non-negative"):
        train_flow(StandIn(), images, steps=1, noise_std=-0.1, progress=False)
