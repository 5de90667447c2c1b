# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Rare events: the gambler's ruin by importance sampling
#
# This notebook runs the estimators of the [rare-events chapter](../rare-events/index.md) on the
# roulette question: $p = 18/37$, start \$100, goal \$200, at most $T = 600$ games (the horizon
# of the homework's reference solution), and then without a horizon. Every estimate is printed with its standard error next to the
# exact value from the dynamic programme (3) or the closed form (2).
#
# Seed: `0` for every generator (numpy's, passed to each estimator; torch is not used). CPU run time:
# about 7 s (one thread of a 2-core CPU).

# %%
import time

import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats
import numpy as np

from dnnf.plotting.rare_events import plot_estimates, plot_relative_variance
from dnnf.rare_events import (
    BridgeTilt,
    FixedTilt,
    GamblersRuin,
    ZeroVarianceTilt,
    cross_entropy_tilt,
    estimate_from_log_weights,
    exact_probability,
    horizon_tilt,
    importance_sampling,
    plain_monte_carlo,
    relative_variance,
    simulate_paths,
    swapped_tilt,
    weight_ess,
)

set_matplotlib_formats("retina")  # twice the pixels: sharp on dense screens and when enlarged

rng = np.random.default_rng(0)  # one generator feeds every estimator below
p = 18 / 37
finite = GamblersRuin(p, start=100, goal=200, horizon=600)
infinite = GamblersRuin(p, start=100, goal=200, horizon=None)

# %% [markdown]
# ## Two questions, two answers
#
# The homework's reference solution stops after 600 games, so it estimates $P(A_{600})$; the classical
# question has no limit. The answers differ by a factor of almost 2,000.

# %%
exact_600 = exact_probability(finite)
exact_inf = exact_probability(infinite)
print(f"P(reach $200 within 600 games) = {exact_600:.6e}   (DP)")
print(f"P(reach $200 ever)             = {exact_inf:.6e}   (closed form)")
print(f"ratio                          = {exact_inf / exact_600:.0f}")

# %% [markdown]
# ## Five estimators with the reference solution's budget of 3,000 paths
#
# - plain Monte Carlo ($q = p$);
# - the reference solution's coin: $q = 0.55$;
# - the best fixed $q$, found by scanning the exact relative variance (6) (this uses the DP, so it is a
#   reference, not a method) — and the derived horizon tilt $q_T = 7/12$ (8), which needs nothing;
# - the cross-entropy $q$ (10), tuned on pilot runs;
# - the bridge tilt (11), state-dependent, no DP;
# - the zero-variance proposal (12), built from the DP.

# %% alt="One row per estimator of P(A_600), the estimate divided by the exact value with its 95% interval, against a dashed line at 1: plain Monte Carlo is a red cross at 0 marked no hits; the fixed, horizon, cross-entropy and bridge tilts scatter around 1 with intervals that narrow down the list; the zero-variance proposal sits exactly on 1."
grid = np.linspace(0.50, 0.66, 81)
exact_relvar = np.array([relative_variance(finite, q) for q in grid])
best_q = float(grid[exact_relvar.argmin()])
ce_tilt, ce_history = cross_entropy_tilt(finite, num_pilot=2000, seed=rng)
print(f"best fixed q (DP scan) = {best_q:.3f}, relative variance {exact_relvar.min():.2f}")
print(f"horizon tilt q_T       = {horizon_tilt(finite).q:.3f}")
print("cross-entropy q_k      =", " ".join(f"{q:.3f}" for q in ce_history))

proposals = {
    "plain MC": FixedTilt(p),
    "reference: q = 0.55": FixedTilt(0.55),
    f"best fixed q = {best_q:.3f}": FixedTilt(best_q),
    f"horizon tilt q_T = {horizon_tilt(finite).q:.3f}": horizon_tilt(finite),
    f"cross-entropy q = {ce_tilt.q:.3f}": ce_tilt,
    "bridge tilt (state-dependent)": BridgeTilt(finite),
    "zero-variance (uses the DP)": ZeroVarianceTilt(finite),
}
num_paths = 3000
results = {}
for name, proposal in proposals.items():
    start = time.perf_counter()
    results[name] = importance_sampling(finite, proposal, num_paths, seed=rng)
    elapsed = time.perf_counter() - start
    print(f"{name:34s} {results[name]}  [{elapsed * 1e3:.0f} ms]")

fig, ax = plt.subplots(figsize=(5.8, 3.6))
plot_estimates(ax, results, exact_600)
ax.set_title("P(A_600) with 3,000 paths per estimator")
ax.set_xlim(-0.1, 1.6)
plt.show()

# %% [markdown]
# Plain Monte Carlo almost surely sees nothing (expected hits: $3000 \times 2.4\times 10^{-6} = 0.007$)
# and reports $0 \pm 0$. The reference solution's $q = 0.55$ has a relative error of about 7%; the tuned fixed coins
# bring it to about 2.5%, the bridge to about 1.5%, and the zero-variance proposal returns the exact
# value on every path.
#
# ## Which effective sample size?
#
# Kish's $(\sum w)^2/\sum w^2$ over all paths' weights against the ESS (13) of the estimate, on 20,000
# paths:

# %%
for name in ("plain MC", "reference: q = 0.55", f"horizon tilt q_T = {horizon_tilt(finite).q:.3f}"):
    batch = simulate_paths(finite, proposals[name], 20_000, rng)
    hit = batch.balance == finite.goal
    est = estimate_from_log_weights(batch.log_weight[hit], hit.size)
    print(
        f"{name:28s} hits {hit.sum():6d}   Kish ESS of the weights {weight_ess(batch.log_weight):9.1f}"
        f"   ESS (13) {est.effective_sample_size:8.1f}   rel. error {est.relative_error:.3g}"
    )

# %% [markdown]
# ## Relative variance per path as a function of q
#
# Exactly by the second-moment DP (6), and by simulation ($n \times$ squared relative error, 20,000
# paths per point). Plain Monte Carlo ($q = p$) is off the chart at $4.2 \times 10^5$; the swap
# $q = 1 - p = 0.514$ is at $1877$.

# %% alt="Relative variance per path against the fixed coin q from the dynamic program (a curve, log scale) with simulated points on it for q from 0.54 to 0.64; the curve has its minimum near q = 0.58, and dotted vertical lines mark q = 0.55 (the homework's choice) and the horizon tilt 7/12."
q_sim = np.linspace(0.54, 0.64, 11)
sim_relvar = [importance_sampling(finite, FixedTilt(q), 20_000, seed=rng).relative_variance for q in q_sim]
fig, ax = plt.subplots(figsize=(5.8, 3.6))
plot_relative_variance(ax, grid, exact=exact_relvar)
ax.plot(q_sim, sim_relvar, "o", label="simulated (20,000 paths)")
ax.axvline(0.55, color="tab:red", linestyle=":", label="reference solution's q = 0.55")
ax.axvline(horizon_tilt(finite).q, color="tab:green", linestyle=":", label="horizon tilt 7/12")
ax.legend()
plt.show()

# %% [markdown]
# ## The swapped coin and the horizon
#
# With $q = 1 - p$ the weight on success is the constant $r^{-d}$ (7), and without a horizon the
# relative variance is only $0.0045$. With a horizon it is $(1 - P_q(A_T))/P_q(A_T)$: the swapped walk
# needs about 3,700 games, so a short horizon makes success rare *under the proposal too*.

# %% alt="Relative variance per path of the swapped coin q = 1 - p against the horizon T from 300 to 16,000 games, both axes logarithmic: very large for short horizons, it falls as T grows past the swapped walk's typical 3,700 games and approaches the dashed line of the infinite horizon, 0.0045."
horizons = np.array([300, 600, 1000, 2000, 4000, 8000, 16000])
swap_relvar = [relative_variance(GamblersRuin(p, 100, 200, int(t)), 1 - p) for t in horizons]
fig, ax = plt.subplots(figsize=(5.8, 3.6))
plot_relative_variance(ax, horizons, exact=swap_relvar, xlabel="horizon T (games)", label=", q = 1 - p")
swapped_inf = exact_probability(GamblersRuin(1 - p, 100, 200))
ax.axhline((1 - swapped_inf) / swapped_inf, color="black", linestyle="--", label="T = infinity")
ax.set_xscale("log")
ax.legend()
plt.show()

# %% [markdown]
# ## The infinite-horizon question
#
# Here the swap is the right tool: 3,000 paths give a relative error of about 0.1%. Plain Monte Carlo
# sees the event (13 hits expected) but with a relative error near 30%. The zero-variance proposal
# $q^*(x) = p\,h(x+1)/h(x)$ comes from the closed form; it plays one game at a time (about 3,700 per
# path), so we run only 20 paths.

# %% alt="Three rows for P(A_infinity), estimate over exact value with 95% intervals against a dashed line at 1: plain Monte Carlo with a wide interval, the swapped coin with a very narrow one on 1, and the zero-variance proposal (20 paths) exactly on 1."
inf_results = {
    "plain MC": plain_monte_carlo(infinite, num_paths, seed=rng),
    "swap q = 1 - p": importance_sampling(infinite, swapped_tilt(infinite), num_paths, seed=rng),
    "zero-variance (20 paths)": importance_sampling(infinite, ZeroVarianceTilt(infinite), 20, seed=rng),
}
for name, result in inf_results.items():
    print(f"{name:26s} {result}")
print(f"exact                      {exact_inf:.6g}")

fig, ax = plt.subplots(figsize=(5.8, 2.6))
plot_estimates(ax, inf_results, exact_inf)
ax.set_title("P(A_infinity)")
plt.show()
