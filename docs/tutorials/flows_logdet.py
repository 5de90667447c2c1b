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
# # Log-determinants against autograd
#
# Every layer of `dnnf.flows` returns $\log|\det J|$ from a formula proved on the page
# [Log-determinants, proved](../flows/log-determinants.md). Here each formula meets the brute-force
# reference: the full Jacobian built by `torch.func.jacrev` and its `slogdet`, in float64, on small
# random inputs. Then we look at the Kronecker and block-triangular structures of parts (c) and (d), and
# check that a 2-D flow's density integrates to 1 on a grid, which it does only because of the
# log-determinant.
#
# Seed: `torch.manual_seed(0)` (numpy is not used for random numbers). CPU run time: about 10 s (one thread
# of a 2-core CPU).

# %%
import time

import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats
import torch

from dnnf.flows import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    ConditionalConv1x1Coupling,
    InvertibleConv1x1,
    InvertibleConv1x1LU,
    LogitTransform,
    Squeeze,
    conv_net,
    density_grid_2d,
    flow_2d,
    glow_mnist,
    jacobian,
    jacobian_logabsdet,
    mlp,
    nice_mnist,
)
from dnnf.plotting.flows import plot_density_2d, plot_samples_2d
from dnnf.plotting.tables import Table

set_matplotlib_formats("retina")  # twice the pixels: sharp on dense screens and when enlarged

torch.manual_seed(0)
F64 = torch.float64
start = time.perf_counter()


def jiggle(module, std=0.1):
    """Move all parameters off their initial values (zero-initialised output layers make couplings the
    identity at first, which would make the comparison trivial)."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(std * torch.randn_like(p))
    return module


# %% [markdown]
# ## Every layer
#
# Each row: a layer, its input shape, the log-determinant the layer returns for the first sample, the
# log-determinant of the autograd Jacobian, and their absolute difference. ActNorm is initialised from
# the batch first (data-dependent initialisation), then jiggled. Float64 rounding puts the differences
# around $10^{-14}$; a wrong formula would be off by at least $10^{-2}$.

# %%
layers = {
    "ActNorm": (ActNorm(3), (4, 3, 3, 3), "real"),
    "1x1 conv, dense": (InvertibleConv1x1(4), (2, 4, 3, 3), "real"),
    "1x1 conv, PLU": (InvertibleConv1x1LU(4), (2, 4, 3, 3), "real"),
    "additive coupling (NICE)": (AdditiveCoupling(mlp(4, 4, 16), split="alternate"), (2, 8), "real"),
    "affine coupling": (AffineCoupling(conv_net(2, 4, 16)), (2, 4, 3, 3), "real"),
    "conditional 1x1 coupling, 4(d)": (ConditionalConv1x1Coupling(6, hidden=8), (2, 6, 3, 3), "real"),
    "squeeze": (Squeeze(2), (2, 1, 4, 4), "real"),
    "logit transform": (LogitTransform(0.05), (2, 1, 3, 3), "unit"),
}

rows = []
for name, (layer, shape, kind) in layers.items():
    layer = layer.double()
    x = torch.rand(shape, dtype=F64) if kind == "unit" else 2 * torch.randn(shape, dtype=F64) + 1
    layer(x)  # ActNorm initialises here
    jiggle(layer)
    returned = layer(x)[1]
    reference = jacobian_logabsdet(layer, x)
    diff = (returned - reference).abs().max().item()
    rows.append([name, str(tuple(shape)), f"{returned[0].item():.6f}", f"{reference[0].item():.6f}", f"{diff:.1e}"])
Table(["layer", "input", "returned", "autograd", "|diff|"], rows)

# %% [markdown]
# ## Whole models
#
# The same check for two whole models: a small Glow on $1 \times 8 \times 8$ images (two levels with
# squeeze and split), and the full-size NICE on $784$ dimensions (a $784 \times 784$ Jacobian). The
# inputs are pixels in $[0, 1]$; the log-determinant includes the logit transform.

# %%
models = {
    "Glow 1x8x8": (glow_mnist(image_shape=(1, 8, 8), steps_per_level=2, hidden_channels=16), (1, 8, 8)),
    "NICE 1x28x28": (nice_mnist(), (1, 28, 28)),
}
for name, (model, shape) in models.items():
    model = model.double()
    x = torch.rand(4, *shape, dtype=F64)
    model.log_prob(x)
    jiggle(model, 0.01)
    t0 = time.perf_counter()
    returned = model.transform(x[:1])[1]
    reference = jacobian_logabsdet(model.transform, x[:1])
    print(
        f"{name:14s} D = {x[0].numel():4d}: returned {returned.item():.6f}, autograd {reference.item():.6f}, "
        f"|diff| = {(returned - reference).abs().item():.1e} ({time.perf_counter() - t0:.1f} s)"
    )

# %% [markdown]
# ## The structures behind the formulas
#
# Part (c): the Jacobian of a $1 \times 1$ convolution on a $3 \times 2 \times 2$ input is
# $A \otimes I_{HW}$ in PyTorch's (channel-major) flattening and $I_{HW} \otimes A$ in the pixel-major
# order, a permutation similarity away. Part (d): the conditional coupling's Jacobian is block lower
# triangular, with the identity on the first half and $A(X_1) \otimes I_{HW}$ on the second.

# %% alt="Three Jacobian matrices drawn as red-blue images, stacked: the 12 by 12 Jacobian of a 1x1 convolution in channel-major order, made of 3 by 3 blocks that are each a multiple of the identity (A Kronecker I); the same Jacobian in pixel-major order, block diagonal with four copies of A (I Kronecker A); and the 16 by 16 Jacobian of the conditional coupling, block lower triangular with the identity in the top-left block."
conv = InvertibleConv1x1(3).double()
jiggle(conv, 0.5)
x = torch.randn(1, 3, 2, 2, dtype=F64)
j_channel_major = jacobian(conv, x)[0]
order = torch.arange(12).reshape(3, 2, 2).permute(1, 2, 0).reshape(-1)  # pixel-major order
j_pixel_major = j_channel_major[order][:, order]

cond = jiggle(ConditionalConv1x1Coupling(4, hidden=8).double(), 0.5)
j_cond = jacobian(cond, torch.randn(1, 4, 2, 2, dtype=F64))[0]

fig, axes = plt.subplots(3, 1, figsize=(4.2, 11))
for ax, j, title in zip(
    axes,
    (j_channel_major, j_pixel_major, j_cond),
    ("(c) channel-major: A ⊗ I", "(c) pixel-major: I ⊗ A", "(d) block lower triangular"),
    strict=True,
):
    lim = j.abs().max().item()
    ax.imshow(j.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(title)
    ax.set_xlabel("input coordinate")
    ax.set_ylabel("output coordinate")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## A 2-D flow's density integrates to 1
#
# Six affine couplings with random networks (`init_scale=3` makes their untrained output large) turn
# the standard normal into a clearly non-Gaussian density. Its values
# $p_X(x) = p_Z(f(x))\,|\det J_f(x)|$ on a $401 \times 401$ grid over $[-7, 7]^2$, integrated by the
# trapezoid rule, plus the mass outside the square (estimated by the fraction of model samples that land
# there), give 1 up to quadrature and Monte Carlo error. Without the $|\det J_f|$ factor the same
# computation is far from 1. The second model (seed 0) puts about 5% of its mass outside the square:
# the grid misses it, and the samples find it.

# %% alt="Two panels, stacked: the density of a 2-D flow with six affine couplings (seed 2) as filled contours over [-4, 4] by [-5, 5], a clearly non-Gaussian shape with several lobes, its grid integral in the title; and the same density with 2,000 of the model's samples drawn as white dots, which fall where the density is high."
for seed in (2, 0):
    flow = flow_2d(num_couplings=6, hidden=32, init_scale=3.0, seed=seed).double()
    xs, ys, density = density_grid_2d(flow, lim=7.0, num_points=401)
    integral = torch.trapezoid(torch.trapezoid(density, ys, dim=1), xs).item()
    gx, gy = torch.meshgrid(xs, ys, indexing="ij")
    with torch.no_grad():
        z, _ = flow.transform(torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1))
        without_logdet = flow.base.log_prob(z).exp().reshape(density.shape)
        samples = flow.sample(20_000, generator=torch.Generator().manual_seed(0))
    outside = (samples.abs() > 7.0).any(dim=1).double().mean().item()
    integral_wrong = torch.trapezoid(torch.trapezoid(without_logdet, ys, dim=1), xs).item()
    print(
        f"seed {seed}: grid integral {integral:.4f} + mass outside {outside:.4f} = {integral + outside:.4f}"
        f"   (without the log-det: {integral_wrong + outside:.4f})"
    )
    if seed == 2:
        fig, axes = plt.subplots(2, 1, figsize=(5.2, 9))
        plot_density_2d(axes[0], xs, ys, density, title=f"density (seed 2), grid integral {integral:.4f}")
        plot_density_2d(axes[1], xs, ys, density, title="with 2,000 of its samples")
        plot_samples_2d(axes[1], samples[:2000], color="white")
        for ax in axes:
            ax.set_xlim(-4, 4)
            ax.set_ylim(-5, 5)
        plt.tight_layout()
        plt.show()

# %%
print(f"total run time: {time.perf_counter() - start:.1f} s")
