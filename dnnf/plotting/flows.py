"""Figures for the flows chapter: 2-D densities and sample clouds, image grids.

Each helper draws on a given matplotlib ``Axes`` and returns it, so figures compose freely.
"""

from __future__ import annotations

import math

import torch
from matplotlib.axes import Axes

__all__ = ["plot_density_2d", "plot_samples_2d", "plot_image_grid"]


def plot_density_2d(
    ax: Axes, xs: torch.Tensor, ys: torch.Tensor, density: torch.Tensor, title: str | None = None
) -> Axes:
    """Draw ``density[i, j]`` (the value at ``(xs[i], ys[j])``, as returned by
    [`dnnf.flows.density_grid_2d`][]) as a filled contour map with a colour bar."""
    gx, gy = torch.meshgrid(xs.detach().cpu(), ys.detach().cpu(), indexing="ij")
    mappable = ax.contourf(gx.numpy(), gy.numpy(), density.detach().cpu().numpy(), levels=30, cmap="viridis")
    ax.figure.colorbar(mappable, ax=ax, shrink=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def plot_samples_2d(ax: Axes, samples: torch.Tensor, title: str | None = None, **scatter_kwargs) -> Axes:
    """Scatter ``(N, 2)`` samples with small translucent dots."""
    pts = samples.detach().cpu().numpy()
    style = {"s": 2, "alpha": 0.3, "color": "tab:orange"} | scatter_kwargs
    ax.scatter(pts[:, 0], pts[:, 1], **style)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return ax


def plot_image_grid(ax: Axes, images: torch.Tensor, nrow: int = 8, title: str | None = None) -> Axes:
    """Tile ``(N, 1, H, W)`` (or ``(N, H, W)``) grey images with values in [0, 1] into one picture."""
    imgs = images.detach().cpu()
    if imgs.dim() == 4:
        imgs = imgs[:, 0]
    if imgs.dim() != 3:
        raise ValueError(f"images must have shape (N, 1, H, W) or (N, H, W), got {tuple(images.shape)}")
    n, h, w = imgs.shape
    ncol = min(nrow, n)
    rows = math.ceil(n / ncol)
    canvas = torch.ones(rows * (h + 1) + 1, ncol * (w + 1) + 1)
    for k in range(n):
        r, c = divmod(k, ncol)
        canvas[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = imgs[k]
    ax.imshow(canvas.clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
