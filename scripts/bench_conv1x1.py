"""Benchmark: PLU against dense invertible 1x1 convolutions (dnnf.flows), not a timed test.

For each channel count C it times, for both forms,
  1. the log-determinant alone (dense: slogdet of the C x C weight, O(C^3); PLU: sum of log|s_i|, O(C)),
  2. the log-determinant with its gradient (backward through it),
  3. the whole layer, forward and backward, on a batch of shape (B, C, H, W),
and prints the times and the ratio dense / PLU measured in the same run.

Usage: python scripts/bench_conv1x1.py [--channels 16 64 256 512] [--batch 16] [--size 16] [--threads 1]
Set DNNF_DEVICE=cuda to run on a GPU (timings are synchronised by torch.utils.benchmark).
"""

from __future__ import annotations

import argparse

import torch
from torch.utils import benchmark

from dnnf.device import default_device
from dnnf.flows import InvertibleConv1x1, InvertibleConv1x1LU


def _time(fn, min_run_time: float) -> float:
    """Median seconds per call of ``fn``."""
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


def _cases(layer: torch.nn.Module, x: torch.Tensor, dense: bool) -> dict:
    def logdet() -> torch.Tensor:
        if dense:
            return torch.linalg.slogdet(layer.weight)[1]
        return layer.logabsdet()

    def logdet_only() -> None:
        with torch.no_grad():
            logdet()

    def logdet_grad() -> None:
        layer.zero_grad(set_to_none=True)
        logdet().backward()

    def layer_fwd_bwd() -> None:
        layer.zero_grad(set_to_none=True)
        y, ld = layer(x)
        (0.5 * y.square().mean() - ld.mean()).backward()

    return {"log-det": logdet_only, "log-det + grad": logdet_grad, "layer fwd+bwd": layer_fwd_bwd}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, nargs="+", default=[16, 64, 256, 512])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=16, help="H = W of the input")
    parser.add_argument("--min-run-time", type=float, default=0.3, help="seconds per measurement")
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads (default: torch's); 1 is steadier when busy"
    )
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    device = default_device()
    torch.manual_seed(0)
    print(f"device: {device}, torch {torch.__version__}, threads: {torch.get_num_threads()}, "
          f"input: ({args.batch}, C, {args.size}, {args.size}), float32")  # fmt: skip
    header = f"{'C':>5s} {'what':>16s} {'dense (ms)':>12s} {'PLU (ms)':>12s} {'dense/PLU':>10s}"
    print(header)
    print("-" * len(header))
    for c in args.channels:
        g = torch.Generator().manual_seed(c)
        plu = InvertibleConv1x1LU(c, generator=g).to(device)
        dense = InvertibleConv1x1(c, weight=plu.weight().detach().cpu()).to(device)
        x = torch.randn(args.batch, c, args.size, args.size, device=device)
        dense_cases = _cases(dense, x, dense=True)
        plu_cases = _cases(plu, x, dense=False)
        for what in dense_cases:
            t_dense = _time(dense_cases[what], args.min_run_time)
            t_plu = _time(plu_cases[what], args.min_run_time)
            print(f"{c:5d} {what:>16s} {1e3 * t_dense:12.4f} {1e3 * t_plu:12.4f} {t_dense / t_plu:10.2f}")


if __name__ == "__main__":
    main()
