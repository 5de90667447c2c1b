"""One-sample against importance-weighted bits/dim of the cached MNIST flows (docs/flows/index.md).

Usage: python scripts/bench_iw_bpd.py [--images 100] [--samples 1 8 64]. Needs the trained models in
$DNNF_CACHE_DIR (otherwise they are trained first, minutes of CPU). Also prints the fraction of the
model's own samples that lie in [0, 1]^D, an estimate of sum_k P(k).
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from dnnf.data import load_mnist
from dnnf.flows import importance_weighted_bits_per_dim
from dnnf.training import load_or_train_mnist_flow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--samples", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--archs", nargs="+", default=["nice", "glow"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    images, _ = load_mnist("test")
    images = images[: args.images]
    for arch in args.archs:
        model = load_or_train_mnist_flow(arch, progress=False)
        first = None
        for s in args.samples:
            start = time.perf_counter()
            bpd = importance_weighted_bits_per_dim(
                model, images, s, generator=torch.Generator().manual_seed(s)
            )
            first = bpd if first is None else first
            gap = first - bpd  # paired over the same images
            print(
                f"{arch:5s} S={s:4d}: {float(bpd.mean()):.5f} bits/dim; below S={args.samples[0]} by "
                f"{float(gap.mean()):.5f} (SE {float(gap.std()) / math.sqrt(len(gap)):.5f}), "
                f"{time.perf_counter() - start:.1f} s"
            )
        with torch.no_grad():
            x = model.sample(1000, generator=torch.Generator().manual_seed(0))
        inside = ((x >= 0) & (x <= 1)).flatten(1).all(1).double()
        print(
            f"{arch:5s} fraction of 1000 samples inside [0,1]^D: {float(inside.mean()):.3f} "
            f"(SE {float(inside.std()) / math.sqrt(len(inside)):.3f})"
        )


if __name__ == "__main__":
    main()
