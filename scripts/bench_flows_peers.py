"""Peer benchmark: dnnf's flows against normflows and zuko on the same data and the same time budget.

Pairs of about the same parameter count:

- dnnf ``glow_mnist`` (multi-scale Glow) against a single-scale normflows Glow (squeeze, then GlowBlocks
  of ActNorm, LU 1x1 convolution and affine coupling);
- dnnf ``nice_mnist`` (additive couplings, logistic base) against zuko's ``NICE`` (affine couplings,
  i.e. RealNVP on flattened images, normal base).

Every model sees the same dequantised pixels through the same logit preprocessing
(:class:`dnnf.flows.LogitTransform`, whose log-determinant is included), is trained by the same loop
(:func:`dnnf.training.train_flow`: Adam, lr 1e-3, batches of 64, same seed), for the number of steps
that fills the time budget at its measured speed (CPU time of the process on a CPU, so that other jobs on
the machine do not change the outcome; wall-clock time on a GPU), and is scored by the same
:func:`dnnf.training.evaluate_bits_per_dim` on the 1,000 held-out images. Not a test: it prints a table.

Usage::

    python scripts/bench_flows_peers.py --budget 60          # CPU seconds of training per model
    DNNF_DEVICE=cuda python scripts/bench_flows_peers.py     # on a GPU
"""

from __future__ import annotations

import argparse
import copy
import time

import normflows as nf
import torch
import zuko
from torch import nn

from dnnf.data import load_mnist
from dnnf.device import default_device
from dnnf.flows import LogitTransform, glow_mnist, nice_mnist
from dnnf.training import evaluate_bits_per_dim, train_flow


class PixelSpacePeer(nn.Module):
    """A peer library's flow behind dnnf's logit preprocessing: ``log_prob`` is a density on [0, 1]^D."""

    def __init__(self, name: str, peer_log_prob, modules: nn.Module, flatten: bool) -> None:
        super().__init__()
        self.logit = LogitTransform(0.05)
        self.peer = modules
        self.peer_log_prob = peer_log_prob
        self.flatten = flatten
        self.config = {"name": name, "kwargs": {}}

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        y, logdet = self.logit(x)
        return self.peer_log_prob(y.flatten(1) if self.flatten else y) + logdet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_prob(x)


def normflows_glow(blocks: int, hidden: int) -> PixelSpacePeer:
    # normflows lists flows from the base to the data: K GlowBlocks on (4, 14, 14), then Squeeze,
    # whose forward maps (4, 14, 14) -> (1, 28, 28).
    flows = [nf.flows.GlowBlock(4, hidden, split_mode="channel", scale=True) for _ in range(blocks)]
    model = nf.NormalizingFlow(
        nf.distributions.DiagGaussian((4, 14, 14), trainable=False), [*flows, nf.flows.Squeeze()]
    )
    return PixelSpacePeer(f"normflows-glow-{blocks}x{hidden}", model.log_prob, model, flatten=False)


def zuko_nice(transforms: int, hidden: int, layers: int) -> PixelSpacePeer:
    flow = zuko.flows.NICE(784, transforms=transforms, hidden_features=[hidden] * layers)
    return PixelSpacePeer(
        f"zuko-nice-{transforms}x{hidden}", lambda y: flow().log_prob(y), flow, flatten=True
    )


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def clock(device: torch.device) -> float:
    """CPU seconds of this process (all its threads) on the CPU, so that other jobs on the machine do not
    shrink a model's budget; wall-clock seconds after a synchronisation on a GPU."""
    if device.type == "cuda":
        torch.cuda.synchronize()
        return time.perf_counter()
    return time.process_time()


def seconds_per_step(model: nn.Module, images: torch.Tensor, device: torch.device) -> float:
    """Time per step of the real loop (Adam update and clipping included), measured on a copy."""
    probe = copy.deepcopy(model)
    train_flow(probe, images, steps=2, batch_size=64, progress=False)  # warm-up: lazy imports, ActNorm init
    start = clock(device)
    train_flow(probe, images, steps=10, batch_size=64, progress=False)
    return (clock(device) - start) / 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="training CPU seconds per model")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (CPU time counts them all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = default_device()
    train_images, _ = load_mnist("train")
    held_out, _ = load_mnist("test")

    candidates = {
        "dnnf glow_mnist (2 levels x 4 steps, 32 hidden)": lambda: glow_mnist(hidden_channels=32),
        "normflows Glow (1 level x 8 blocks, 40 hidden)": lambda: normflows_glow(8, 40),
        "dnnf nice_mnist (4 couplings, 3 x 256 hidden)": lambda: nice_mnist(hidden=256, num_hidden_layers=3),
        "zuko NICE/RealNVP (4 couplings, 3 x 200 hidden)": lambda: zuko_nice(4, 200, 3),
    }
    unit = "GPU wall-clock" if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(
        f"device {device}; {args.budget:.0f} {unit} seconds of training per model; offline MNIST 4,000/1,000"
    )
    print(f"{'model':52s} {'params':>9s} {'s/step':>7s} {'steps':>6s} {'train s':>8s} held-out bpd (± s.e.)")
    for label, build in candidates.items():
        torch.manual_seed(0)
        model = build().to(device)
        step_time = seconds_per_step(model, train_images, device)
        steps = max(1, int(args.budget / step_time))
        start = clock(device)
        train_flow(model, train_images, steps=steps, batch_size=64, lr=1e-3, seed=0, progress=False)
        elapsed = clock(device) - start
        bpd, stderr = evaluate_bits_per_dim(model, held_out, return_stderr=True)
        row = f"{label:52s} {n_params(model):9,d} {step_time:7.3f} {steps:6d} {elapsed:8.1f}"
        print(f"{row} {bpd:6.3f} ± {stderr:.3f}")


if __name__ == "__main__":
    main()
