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
# # Projected gradient descent
#
# This notebook draws the objects of the [projection chapter](../projection/index.md): the segment
# $C = \{a\} \times [0, 1]$ of the homework's [problem 2](../source.md#problem-2), with the projections of a
# grid of points, then projected gradient descent
# on one quadratic over four different sets (box, $\ell_2$ ball, $\ell_1$ ball, simplex), and finally
# the convergence guarantees (15)–(16) measured along the run.
#
# Seed: `torch.manual_seed(0)` (the only random draw is the jitter of the grid below; numpy's generator
# is not used). CPU run time: about 5 s (one thread of a 2-core CPU).

# %%
import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats
import torch

from dnnf.plotting.projection import (
    draw_box,
    draw_l1_ball,
    draw_l2_ball,
    draw_simplex,
    plot_iterates,
    plot_objective_contours,
    plot_projection_arrows,
)
from dnnf.projection import (
    project_box,
    project_l1_ball,
    project_l2_ball,
    project_simplex,
    projected_gradient_descent,
)

set_matplotlib_formats("retina")  # twice the pixels: sharp on dense screens and when enlarged

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)

# %% [markdown]
# ## The homework's segment: a box with equal bounds
#
# $C = \{a\} \times [0, 1]$ is the box with $\ell = (a, 0)$ and $u = (a, 1)$, so `project_box` handles it
# directly and returns $\Pi_C(y) = (a, \min\{\max\{y_2, 0\}, 1\})$ (eq. (3)). Each arrow goes from a
# point $y$ (grey) to its projection (orange): horizontal when $0 \le y_2 \le 1$, towards an end point
# otherwise.

# %% alt="Arrows from 49 grey points on a grid over [-1, 2] squared to their orange projections on the vertical blue segment x1 = 0.5, 0 <= x2 <= 1: points with 0 <= x2 <= 1 move horizontally, the others converge on the segment's end points (0.5, 0) and (0.5, 1)."
a = 0.5
lower, upper = torch.tensor([a, 0.0]), torch.tensor([a, 1.0])

g = torch.linspace(-1.0, 2.0, 7)
grid = torch.cartesian_prod(g, g) + 0.05 * torch.randn(49, 2)  # jitter so arrows do not overlap

fig, ax = plt.subplots(figsize=(5.2, 5.2))
draw_box(ax, lower.tolist(), upper.tolist(), label="C = {a} × [0, 1]")
plot_projection_arrows(ax, lambda y: project_box(y, lower, upper), grid)
ax.axhspan(0, 1, color="tab:green", alpha=0.07)
ax.set_aspect("equal")
ax.set_title("Projections onto the homework's segment (a = 0.5)")
ax.legend(loc="upper left")
plt.show()

# %%
y = torch.tensor([[2.0, 3.0], [-1.0, 0.25], [0.0, -4.0]])
print(project_box(y, lower, upper))

# %% [markdown]
# ## One quadratic, four sets
#
# We minimise $f(x) = \tfrac12 (x - c)^\top Q (x - c)$ with $c = (1.2, 0.8)$ outside every set, so the
# constraint is active. $\nabla f$ is $L$-Lipschitz with $L = \lambda_{\max}(Q)$, and we use the step
# $t = 1/L$. The star marks the last iterate; the run stops when the gradient mapping
# $\|G_t(x_k)\|$ (eq. (13)) drops below `tol`.

# %% alt="Four panels in a 2 by 2 grid, one per set (box, l2 ball, l1 ball, simplex), each drawn shaded over the contour lines of the same quadratic; red iterates start at the square (-1.5, 1.5), land on the set's boundary after the first step and slide along it to the black star. The titles give the number of steps and the solution: the l1 ball and the simplex both end at the vertex (1, 0)."
Q = torch.tensor([[5.0, 2.0], [2.0, 1.0]])
c = torch.tensor([1.2, 0.8])
eigenvalues = torch.linalg.eigvalsh(Q)
mu, L = float(eigenvalues[0]), float(eigenvalues[-1])


def f(x):
    d = x - c
    return 0.5 * d @ Q @ d


problems = {
    "box [-1, 0.5] x [-1, 1]": (
        lambda x: project_box(x, torch.tensor([-1.0, -1.0]), torch.tensor([0.5, 1.0])),
        lambda ax: draw_box(ax, (-1, -1), (0.5, 1)),
    ),
    "l2 ball, radius 1": (project_l2_ball, lambda ax: draw_l2_ball(ax, 1.0)),
    "l1 ball, radius 1": (project_l1_ball, lambda ax: draw_l1_ball(ax, 1.0)),
    "probability simplex": (project_simplex, lambda ax: draw_simplex(ax, 1.0)),
}
x0 = torch.tensor([-1.5, 1.5])
results = {}
fig, axes = plt.subplots(2, 2, figsize=(5.8, 6.4))  # sized for the book's text column
for ax, (name, (project, draw)) in zip(axes.flat, problems.items(), strict=True):
    res = projected_gradient_descent(f, x0, project, step_size=1 / L, tol=1e-8)
    results[name] = res
    plot_objective_contours(ax, f, (-2, 2), (-2, 2), levels=25)
    draw(ax)
    plot_iterates(ax, res.x_history)
    ax.set_title(f"{name}\n{res.num_steps} step(s), x* = ({res.x[0]:.3f}, {res.x[1]:.3f})", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# The first step from $x_0$ (the square; it is projected first) already lands on the boundary, and the
# later iterates slide along it. The $\ell_1$-ball and simplex solutions are the vertex $(1, 0)$: a
# sparse point, typical of the soft-thresholding formula (11), which sets small coordinates to zero.
#
# ## The guarantees, measured
#
# For the $\ell_2$ ball: the objective gap against the bound (16),
# $f(x_k) - f^\star \le L\|x_0 - x^\star\|^2 / (2k)$, and the stopping quantity $\|G_t(x_k)\|$. Here $f$
# is strongly convex ($\mu > 0$), so the gap falls geometrically, far below the $O(1/k)$ bound that only
# assumes convexity. $f^\star$ comes from a run with a much smaller tolerance. Backtracking (no
# `step_size`) reaches the same point without knowing $L$, at the price of a few more steps: halving
# from $1$, it settles on a step below $1/L$.

# %% alt="Two log-scale panels, stacked. Top: the objective gap f(x_k) - f* for the l2 ball falls on a straight line, from about 1 to 1e-16 in 50 steps, while the dashed bound L ||x_0 - x*||^2 / (2k) stays near 1. Bottom: the gradient-mapping norm falls to the dotted tolerance 1e-8 in 50 steps with the constant step 1/L and in 66 with backtracking."
name = "l2 ball, radius 1"
project = problems[name][0]
res = results[name]
ref = projected_gradient_descent(f, x0, project, step_size=1 / L, tol=1e-13, num_steps=10_000)
k = torch.arange(1, res.num_steps + 1)
gap = res.f_history[1:] - ref.f
bound = L * float(((res.x_history[0] - ref.x) ** 2).sum()) / (2 * k)
assert bool((gap <= bound + 1e-12).all())  # eq. (16) holds at every iterate

fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(5.8, 6.4))
ax1.semilogy(k, gap.clamp(min=1e-16), "o-", markersize=3, label="f(x_k) − f*")
ax1.semilogy(k, bound, "--", label="bound (16): L ‖x_0 − x*‖² / (2k)")
ax1.set_xlabel("k")
ax1.legend()
ax2.semilogy(res.gradient_mapping_norms, "o-", markersize=3, label="constant step 1/L")
bt = projected_gradient_descent(f, x0, project, tol=1e-8)
ax2.semilogy(bt.gradient_mapping_norms, "s-", markersize=3, label="backtracking")
ax2.axhline(1e-8, color="gray", linestyle=":", label="tol")
ax2.set_xlabel("k")
ax2.set_ylabel("‖G_t(x_k)‖")
ax2.legend()
plt.tight_layout()
plt.show()
print(f"L = {L:.3f}, mu = {mu:.3f}; constant step: {res.num_steps} steps, backtracking: {bt.num_steps} steps")
print(f"solutions agree to {float((bt.x - ref.x).abs().max()):.1e}")
print(f"last backtracking step {bt.step_sizes[-1]:.3f}, 1/L = {1 / L:.3f}")

# %% [markdown]
# ## Exercise
#
# Use `projected_gradient_descent` to find the point of the homework's segment $C = \{a\} \times [0, 1]$
# ($a = 0.5$) nearest to $y = (2, 3)$, i.e. minimise $f(x) = \tfrac12\|x - y\|^2$ over $C$. What is $L$,
# how many steps does the method take with $t = 1/L$, and why?
#
# <details><summary>Solution</summary>
#
# $\nabla f(x) = x - y$, so $L = 1$ and the first step is $x_1 = \Pi_C(x_0 - (x_0 - y)) = \Pi_C(y)$,
# whatever $x_0$: the method lands on the answer $(0.5, 1)$ in one step, and the next gradient mapping
# is zero, so it stops (`num_steps == 1`).
#
# ```python
# y = torch.tensor([2.0, 3.0])
# res = projected_gradient_descent(lambda x: 0.5 * ((x - y) ** 2).sum(), torch.zeros(2),
#                                  lambda x: project_box(x, lower, upper), step_size=1.0)
# print(res.x, res.num_steps)  # tensor([0.5000, 1.0000]) 1
# ```
#
# </details>
