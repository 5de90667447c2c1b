"""Environment variables read by dnnf: a bad value fails at once, naming the variable and what it accepts.

``DNNF_DEVICE=gpu``, ``cuda:x`` or ``mps`` on a machine without one, and ``WORLD_SIZE=two``, used to fail
later inside torch without naming the variable.
"""

from __future__ import annotations

import pytest
import torch

from dnnf.device import default_device
from dnnf.training import init_distributed


@pytest.mark.parametrize("value", ["gpu", "cuda:x", "CUDA:-1", "cpu:zero", "mps:0", "tpu", "cuda 0"])
def test_an_unknown_device_names_the_variable_and_the_accepted_values(monkeypatch, value):
    monkeypatch.setenv("DNNF_DEVICE", value)
    with pytest.raises(ValueError, match=f"DNNF_DEVICE='{value}' .*accepted values: 'cpu'.*'cuda:<index>'"):
        default_device()


def test_a_device_this_machine_lacks_is_a_clear_error(monkeypatch):
    """mps without Apple silicon, cuda without a GPU, cuda:<n> past the last GPU."""
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setenv("DNNF_DEVICE", "mps")
    with pytest.raises(RuntimeError, match=r"DNNF_DEVICE='mps' asks for MPS but torch.backends.mps"):
        default_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("DNNF_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match=r"DNNF_DEVICE='cuda' asks for CUDA but torch.cuda"):
        default_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("DNNF_DEVICE", "cuda:2")
    with pytest.raises(RuntimeError, match=r"names GPU 2, but this machine has 2 \(cuda:0 to cuda:1\)"):
        default_device()
    monkeypatch.setenv("DNNF_DEVICE", " CUDA:1 ")
    assert default_device() == torch.device("cuda", 1)


@pytest.mark.parametrize("value", ["", "cpu", " Cpu ", "auto"])
def test_accepted_devices_still_work(monkeypatch, value):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("DNNF_DEVICE", value)
    assert default_device() == torch.device("cpu")


@pytest.mark.parametrize(
    ("variables", "match"),
    [
        ({"WORLD_SIZE": "two"}, "WORLD_SIZE='two' is not valid; accepted values: an integer >= 1"),
        ({"WORLD_SIZE": "0"}, "WORLD_SIZE='0' is not valid"),
        ({"WORLD_SIZE": "2.5"}, "WORLD_SIZE='2.5' is not valid"),
        ({"WORLD_SIZE": "2", "RANK": "2"}, "RANK='2' is not valid; accepted values: an integer >= 0 and <="),
        ({"WORLD_SIZE": "2", "RANK": "first"}, "RANK='first' is not valid"),
        ({"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "-1"}, "LOCAL_RANK='-1' is not valid"),
    ],
)
def test_bad_torchrun_variables_name_the_variable(monkeypatch, variables, match):
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=match):
        init_distributed("cuda" if "LOCAL_RANK" in variables else "cpu")


def test_without_torchrun_nothing_happens(monkeypatch):
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    assert init_distributed() == (0, 1, torch.device("cpu"))
    monkeypatch.setenv("WORLD_SIZE", " 1 ")
    assert init_distributed() == (0, 1, torch.device("cpu"))
