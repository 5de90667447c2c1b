"""Benchmark of the Gaussian objective: variance, cost and iterations of each gradient estimator.

Prints, in one run:
1. the per-sample variance n Var[g_n] of the gradient of E[X sin X] in (mu, tau), summed over the two
   coordinates, at the three stationary points, for pathwise, score (no baseline), score (leave-one-out);
2. the wall time per gradient estimate (n = 32 draws) and its ratio to the pathwise estimator;
3. the iterations that averaged SGD needs to stay within 1e-2 of the exact minimiser of its basin.

Usage: ``OMP_NUM_THREADS=1 python scripts/bench_estimators.py [--seeds 8]`` (about six minutes on one
CPU core with 8 seeds).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from torch.distributions import Normal

from dnnf.estimators import (
    basin_minimizer,
    estimator_statistics,
    iterations_to_reach,
    optimize_gaussian_objective,
    pathwise_gradient,
    running_average,
    score_function_gradient,
    stationary_points,
    x_sin_x,
)

ESTIMATORS = [("pathwise", None), ("score", None), ("score", "loo")]


def label(estimator: str, baseline: str | None) -> str:
    if estimator == "pathwise":
        return "pathwise"
    return f"score ({'leave-one-out' if baseline else 'no baseline'})"


def make_normal(mu: torch.Tensor, tau: torch.Tensor) -> Normal:
    return Normal(mu, tau.exp())


def variances() -> None:
    print("1. Per-sample variance n Var[g_n], summed over (mu, tau); n = 32, 4000 batches, ± 1 s.e.")
    for point in stationary_points():
        params = [torch.tensor(v, dtype=torch.float64) for v in (point.mu, math.log(point.sigma))]
        cells = []
        for estimator, baseline in ESTIMATORS:
            torch.manual_seed(0)
            s = estimator_statistics(estimator, x_sin_x, make_normal, params, 32, 4000, baseline=baseline)
            cells.append(
                f"{label(estimator, baseline)} {float(sum(s.per_sample_variance)):7.3f} "
                f"± {float(sum(s.per_sample_variance_se)):.3f}"
            )
        print(f"   {point.kind:7s} ({point.mu:.4f}, {point.sigma:.4f}): " + " | ".join(cells))


def timings(repeats: int = 2000) -> None:
    print(f"2. Time per gradient estimate (n = 32 draws, median of 5 blocks of {repeats // 5})")
    mu = torch.tensor(0.44, dtype=torch.float64, requires_grad=True)
    tau = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    results = {}
    for estimator, baseline in ESTIMATORS:
        torch.manual_seed(0)
        blocks = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats // 5):
                q = make_normal(mu, tau)
                if estimator == "pathwise":
                    pathwise_gradient(x_sin_x, q, [mu, tau], 32)
                else:
                    score_function_gradient(x_sin_x, q, [mu, tau], 32, baseline=baseline)
            blocks.append((time.perf_counter() - start) / (repeats // 5))
        results[label(estimator, baseline)] = statistics.median(blocks)
    reference = results["pathwise"]
    for name, seconds in results.items():
        print(f"   {name:28s} {seconds * 1e6:8.1f} us   ratio to pathwise {seconds / reference:.2f}")


def iterations(seeds: int) -> None:
    print("3. Iterations to stay within 1e-2 of the basin's exact minimiser (averaged SGD, step 0.1,")
    print("   averaging after 300 steps; median over seeds; '>K' = not reached in K steps)")
    setups = [((0.0, 1.0), 32, 3000), ((2.0, 2.5), 256, 4000)]
    for start, num_samples, num_steps in setups:
        target = basin_minimizer(*start)
        exact = optimize_gaussian_objective("exact", *start, lr=0.1, num_steps=num_steps)
        print(
            f"   start {start} -> minimiser ({target[0]:.6f}, {target[1]:.6f}), "
            f"{num_samples} draws per step; "
            f"exact gradient descent: {iterations_to_reach(exact, target, 1e-2)} steps"
        )
        for estimator, baseline in ESTIMATORS:
            counts = []
            for seed in range(seeds):
                torch.manual_seed(seed)
                raw = optimize_gaussian_objective(
                    estimator, *start, lr=0.1, num_steps=num_steps, num_samples=num_samples, baseline=baseline
                )
                k = iterations_to_reach(running_average(raw, 300), target, 1e-2)
                counts.append(math.inf if k is None else k)
            shown = ", ".join(f">{num_steps}" if math.isinf(c) else str(c) for c in counts)
            med = statistics.median(counts)
            med_s = f">{num_steps}" if math.isinf(med) else f"{med:.0f}"
            print(f"      {label(estimator, baseline):28s} median {med_s:>6s}   (seeds: {shown})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8, help="SGD runs per estimator and start")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), float64, CPU")
    variances()
    timings()
    iterations(args.seeds)


if __name__ == "__main__":
    main()
