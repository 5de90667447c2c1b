"""Benchmark: hole PSNR of flow inpainting against the baselines and plain SGD; throughput.

On a fixed held-out set (``--num-images`` digits of the offline held-out split from index ``--first``,
at the centres of their quantisation bins) and every mask kind, it prints the hole-PSNR table (mean ±
standard error over images), the gain of each model-based method (projected Adam, the Langevin mean,
the MALA mean) and of the KDE yardstick over each baseline and plain SGD, the homework's recipe (mean
paired difference ± its standard error), how often the gain reaches 3 dB (half the squared error), and
images per second of projected Adam on the CPU and, when ``DNNF_DEVICE`` names a GPU (``cuda`` or
``auto``), on the GPU in the same run.

Settings were chosen on validation slices disjoint from the evaluation digits, never on the first 100
digits that the chapter reports: Langevin step sizes, starts and models on digits 900-915 (``--first 900
--num-images 16``), the KDE bandwidth (0.5 to 2; 1.0 was best), the MALA chain length and the smoothed
models' noise level, steps and sizes on digits 900-999 (docs/inpainting/smoothed-models.md says what
they showed).

Usage: python scripts/bench_inpainting.py [--arch nice|glow|nice_smoothed|glow_smoothed] [--first 0]
[--num-images 100] [--steps 300] [--chains 8] [--mala-chains 4] [--mala-steps 300] [--bandwidth 1.0]
[--threads 2] [--masks centre random] [--per-digit-masks]

With ``--per-digit-masks`` every digit gets its own random mask, so the standard errors over digits
include mask-to-mask variation (the default shares one random mask among all digits).
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from dnnf.data import load_mnist, to_unit_interval
from dnnf.device import default_device
from dnnf.inpainting import MASK_KINDS, format_psnr_table, inpaint, inpainting_methods, make_mask, psnr_table
from dnnf.training import PRETRAINED_RECIPES, load_or_train_mnist_flow

HALF_MSE_DB = 10 * math.log10(2)  # a gain of 3.01 dB halves the hole's mean squared error


def images_per_second(model, images: torch.Tensor, known: torch.Tensor, steps: int) -> float:
    """Throughput of projected Adam with a fixed number of steps (stopping rule off)."""
    warm_known = known[:2] if known.dim() == 4 else known  # a per-digit mask is cut with its images
    inpaint(model, images[:2], warm_known, num_steps=2, tol=None)  # warm-up (kernels, lazy imports)
    if images.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    inpaint(model, images, known, num_steps=steps, tol=None)
    if images.device.type == "cuda":
        torch.cuda.synchronize()
    return images.shape[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="nice", choices=sorted(PRETRAINED_RECIPES))
    parser.add_argument("--first", type=int, default=0, help="index of the first held-out digit")
    parser.add_argument("--num-images", type=int, default=100)
    parser.add_argument("--steps", type=int, default=300, help="most projected-Adam steps")
    parser.add_argument("--chains", type=int, default=8, help="Langevin chains per image (0: skip)")
    parser.add_argument("--mala-chains", type=int, default=4, help="MALA chains per image (0: skip)")
    parser.add_argument("--mala-steps", type=int, default=300, help="MALA steps per chain, half warm-up")
    parser.add_argument("--bandwidth", type=float, default=1.0, help="KDE yardstick's bandwidth h")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--masks", nargs="+", default=list(MASK_KINDS), choices=MASK_KINDS, help="mask kinds")
    parser.add_argument(
        "--per-digit-masks", action="store_true", help="draw the random mask independently for every digit"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = default_device()

    model = load_or_train_mnist_flow(args.arch, progress=False).requires_grad_(False)
    images = to_unit_interval(load_mnist("test")[0][args.first : args.first + args.num_images])
    train_images = to_unit_interval(load_mnist("train")[0])
    mean_image = train_images.mean(dim=0)
    per_digit = images.shape[0] if args.per_digit_masks else None
    masks = {
        k: make_mask(k, generator=torch.Generator().manual_seed(0), num_images=per_digit) for k in args.masks
    }

    start = time.perf_counter()
    langevin = {"num_chains": args.chains, "step_size": 1e-4, "num_steps": 150,
                "generator": torch.Generator().manual_seed(0)} if args.chains else None  # fmt: skip
    mala = {"num_chains": args.mala_chains, "num_steps": args.mala_steps,
            "generator": torch.Generator().manual_seed(0)} if args.mala_chains else None  # fmt: skip
    kde = (train_images, args.bandwidth)
    methods = inpainting_methods(model, mean_image, langevin, mala, kde, num_steps=args.steps)
    seconds = dict.fromkeys(methods, 0.0)

    def timed(name, method):
        def run(x, k):
            tic = time.perf_counter()
            out = method(x, k)
            seconds[name] += time.perf_counter() - tic
            return out

        return run

    scores, _ = psnr_table({name: timed(name, m) for name, m in methods.items()}, images, masks)
    print(f"# Inpainting benchmark: {args.arch}, {images.shape[0]} held-out digits, CPU "
          f"({torch.get_num_threads()} threads), {time.perf_counter() - start:.0f} s\n")  # fmt: skip
    print("Hole PSNR in dB (mean ± standard error over images):\n")
    print(format_psnr_table(scores))
    baselines = ["mean fill", "diffusion fill", "plain SGD"]
    for best in [m for m in methods if m not in baselines]:
        print(f"\nGain of {best} (paired mean difference ± standard error, dB):\n")
        print("| mask | " + " | ".join(f"vs {m}" for m in baselines) + " |")
        print("|---" * (len(baselines) + 1) + "|")
        met = 0
        for kind, row in scores.items():
            cells = []
            for m in baselines:
                d = (row[best] - row[m]).double()
                mean, se = d.mean().item(), d.std().item() / math.sqrt(d.numel())
                met += mean >= HALF_MSE_DB
                cells.append(f"{mean:+.2f} ± {se:.2f}")
            print(f"| {kind} | " + " | ".join(cells) + " |")
        total = len(scores) * len(baselines)
        print(f"\nGain of at least {HALF_MSE_DB:.2f} dB (half the squared error) for {best}: "
              f"{met} of {total} (mask, baseline) pairs")

    per_image = len(masks) * images.shape[0]
    print("\nWall-clock time per image and mask, this run: " + ", ".join(
        f"{name} {1e3 * t / per_image:.1f} ms" for name, t in seconds.items()))  # fmt: skip

    known = masks[args.masks[0]]
    devices = [torch.device("cpu")] + ([device] if device.type != "cpu" else [])
    for dev in devices:
        rate = images_per_second(model.to(dev), images.to(dev), known.to(dev), steps=100)
        print(f"Throughput, projected Adam, 100 steps, {args.masks[0]} mask, {dev.type}: {rate:.1f} images/s "
              f"({rate * 100:.0f} image-steps/s)")  # fmt: skip


if __name__ == "__main__":
    main()
