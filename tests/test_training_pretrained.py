"""Tests for the pretrained-model cache and the scripts/train_flow.py entry point."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from dnnf.training import (
    PRETRAINED_RECIPES,
    load_checkpoint,
    load_or_train_mnist_flow,
    pretrained_cache_key,
    pretrained_checkpoint_path,
)
from dnnf.training import pretrained as pretrained_module

TINY = {
    "version": 99,
    "config": {
        "name": "glow_mnist",
        "kwargs": {"image_shape": (1, 28, 28), "num_levels": 1, "steps_per_level": 1, "hidden_channels": 4,
                   "conv": "lu", "coupling": "affine", "logit_alpha": 0.05, "seed": 0},
    },
    "train": {"steps": 3, "batch_size": 8, "lr": 1e-3, "seed": 0, "grad_clip": 100.0},
}  # fmt: skip


@pytest.mark.claim("flows/training.md", note="the pretrained cache and `scripts/train_flow.py`")
def test_first_call_trains_and_caches_second_call_loads(tmp_path, monkeypatch):
    """The first call trains with the recipe and writes the checkpoint; the second only loads it."""
    monkeypatch.setitem(PRETRAINED_RECIPES, "tiny", TINY)
    first = load_or_train_mnist_flow("tiny", cache_dir=tmp_path, progress=False)
    path = pretrained_checkpoint_path("tiny", cache_dir=tmp_path)
    key = pretrained_cache_key("tiny")
    assert path == tmp_path / "flows" / f"mnist-tiny-{key}" / "checkpoint.pt" and path.is_file()
    state = load_checkpoint(path, expected_config=TINY["config"])
    assert state["step"] == 3 and state["metrics"]["eval_bpd"][-1][0] == 3
    assert not first.training

    def no_training(*args, **kwargs):
        raise AssertionError("the cached checkpoint should have been loaded, not retrained")

    monkeypatch.setattr(pretrained_module, "train_flow", no_training)
    second = load_or_train_mnist_flow("tiny", cache_dir=tmp_path)
    assert not second.training
    for name, value in first.state_dict().items():
        assert torch.equal(value, second.state_dict()[name]), name


@pytest.mark.claim("flows/training.md", note="the pretrained cache and `scripts/train_flow.py`")
def test_cache_key_changes_with_the_recipe_and_the_training_code(monkeypatch, tmp_path):
    """A changed recipe, or one byte more in the training code, gives a new key: no stale model loads."""
    monkeypatch.setitem(PRETRAINED_RECIPES, "tiny", TINY)
    key = pretrained_cache_key("tiny")
    assert key == pretrained_cache_key("tiny") and len(key) == 16
    assert key != pretrained_cache_key("nice")
    monkeypatch.setitem(PRETRAINED_RECIPES, "tiny", {**TINY, "train": {**TINY["train"], "steps": 4}})
    assert pretrained_cache_key("tiny") != key
    monkeypatch.setitem(PRETRAINED_RECIPES, "tiny", TINY)
    package = tmp_path / "dnnf"
    for name in ("data.py", "flows/models.py", "training/loop.py"):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("x = 1\n")
    monkeypatch.setattr(pretrained_module, "__file__", str(package / "training" / "pretrained.py"))
    fake = pretrained_cache_key("tiny")
    (package / "flows" / "models.py").write_text("x = 1\n\n")
    assert pretrained_cache_key("tiny") != fake


@pytest.mark.claim("flows/training.md", note="the pretrained cache and `scripts/train_flow.py`")
def test_unknown_arch_is_a_clear_error():
    """An unknown architecture name lists the known ones."""
    known = r"\['glow', 'glow_smoothed', 'nice', 'nice_smoothed'\]"
    with pytest.raises(ValueError, match=r"arch must be one of " + known):
        load_or_train_mnist_flow("realnvp")


@pytest.mark.claim("flows/training.md", note="the pretrained cache and `scripts/train_flow.py`")
def test_recipes_rebuild_with_build_model():
    """Every recipe's config is accepted by dnnf.flows.build_model and round-trips into the model."""
    from dnnf.flows import build_model

    for recipe in PRETRAINED_RECIPES.values():
        assert build_model(recipe["config"]).config == recipe["config"]


def _script():
    path = Path(__file__).resolve().parents[1] / "scripts" / "train_flow.py"
    spec = importlib.util.spec_from_file_location("train_flow_script", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.claim("flows/training.md", note="the pretrained cache and `scripts/train_flow.py`")
def test_script_trains_then_resumes(tmp_path, capsys):
    """scripts/train_flow.py writes a checkpoint and, run again with more steps, continues from it."""
    script = _script()
    args = ["--arch", "nice", "--batch-size", "8", "--out", str(tmp_path), "--eval-every", "0"]
    script.main([*args, "--steps", "2"])
    assert load_checkpoint(tmp_path / "checkpoint.pt")["step"] == 2
    script.main([*args, "--steps", "3"])
    state = load_checkpoint(tmp_path / "checkpoint.pt", expected_config=PRETRAINED_RECIPES["nice"]["config"])
    assert state["step"] == 3 and len(state["metrics"]["train_bpd"]) == 3
    assert "step 3: held-out" in capsys.readouterr().out


@pytest.mark.claim("flows/training.md", note="the pretrained cache and `scripts/train_flow.py`")
def test_script_pretrained_fills_the_cache_and_prints_the_weights_checksum(tmp_path, monkeypatch, capsys):
    """`train_flow.py --pretrained` trains the recipe into the pretrained cache and prints its checksum."""
    monkeypatch.setitem(PRETRAINED_RECIPES, "tiny", TINY)
    monkeypatch.setenv("DNNF_CACHE_DIR", str(tmp_path))
    script = _script()
    script.main(["--arch", "tiny", "--pretrained"])
    first = capsys.readouterr().out
    assert str(pretrained_checkpoint_path("tiny", cache_dir=tmp_path)) in first
    checksum = first.split("weights sha256 ")[1].strip()
    assert len(checksum) == 64
    model = load_or_train_mnist_flow("tiny", cache_dir=tmp_path, progress=False)
    assert script.weights_sha256(model) == checksum
    with pytest.raises(SystemExit):
        script.main(["--arch", "tiny", "--pretrained", "--steps", "5"])
