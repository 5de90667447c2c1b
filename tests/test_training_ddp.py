"""Two CPU processes with gloo and DistributedDataParallel train exactly like one process.

Each process is spawned with torch.multiprocessing; both train a small Glow (ActNorm with its
data-dependent initialisation, LU 1x1 convolutions, affine couplings) on their halves of the same global
batches. The test checks the identity of page flows/training, "Several processes": the processes end
with identical parameters, and these equal a single-process run on the same global batches.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from dnnf.flows import glow_mnist
from dnnf.training import train_flow

STEPS, BATCH = 4, 8


def _model():
    # 8x8 images, one level of two steps: a second of work instead of minutes. Double precision: Adam
    # divides each gradient coordinate by its running RMS, so a coordinate whose exact gradient is zero
    # (ActNorm's bias right after its initialisation has centred the data) takes a step of size lr in
    # the direction of its rounding error whenever that error exceeds Adam's eps = 1e-8, as it does in
    # float32. In float64 rounding errors (~1e-16) stay far below eps and the comparison is sharp.
    model = glow_mnist(image_shape=(1, 8, 8), num_levels=1, steps_per_level=2, hidden_channels=8, seed=0)
    return model.double()


def _images():
    return torch.randint(0, 256, (32, 1, 8, 8), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)


def _worker(rank: int, world_size: int, folder: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/store", rank=rank, world_size=world_size)
    try:
        model = _model()
        result = train_flow(model, _images(), steps=STEPS, batch_size=BATCH, progress=False)
        torch.save(
            {"params": model.state_dict(), "train_bpd": result.train_bpd},
            os.path.join(folder, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.claim("flows/training.md#eq-ddp", note="with two gloo processes and a Glow with ActNorm")
@pytest.mark.slow
def test_two_gloo_processes_match_one_process(tmp_path):
    """Page flows/training, eq. (ddp): DDP on 2 processes = one process on the same global batch."""
    mp.spawn(_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]

    single = _model()
    reference = train_flow(single, _images(), steps=STEPS, batch_size=BATCH, progress=False)

    for name, value in single.state_dict().items():
        # the two processes apply the same all-reduced gradient: bit-for-bit equal parameters
        assert torch.equal(ranks[0]["params"][name], ranks[1]["params"][name]), name
        # The all-reduce sums in another order than the single process: float64 rounding (~1e-16
        # relative), amplified at most by lr/eps = 1e5 in Adam's division, stays below 1e-9. A
        # desynchronised or wrongly averaged run differs by about lr = 1e-3 per step.
        assert torch.allclose(ranks[0]["params"][name], value, rtol=0, atol=1e-9), name
    assert ranks[0]["train_bpd"] == ranks[1]["train_bpd"]
    # the loss of every step agrees to rounding: another global batch would change it by ~1e-2
    assert torch.allclose(torch.tensor(ranks[0]["train_bpd"]), torch.tensor(reference.train_bpd), atol=1e-10)
    # the model moved: a test that passes with no training would prove nothing
    untouched = _model().state_dict()
    assert any(not torch.equal(untouched[k], v) for k, v in single.state_dict().items())
