"""Figures for the estimators chapter: the map of J, its stationary points, SGD paths, variance maps.

Each helper draws on a given matplotlib ``Axes`` and returns it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap

from dnnf.estimators import BasinMap, StationaryPoint, Trajectory, gaussian_objective

__all__ = [
    "plot_basin_map",
    "plot_log_ratio_map",
    "plot_objective_map",
    "plot_stationary_points",
    "plot_trajectory",
]

_MARKERS = {"minimum": ("*", "black"), "saddle": ("X", "tab:red"), "maximum": ("^", "tab:purple")}


def plot_objective_map(
    ax: Axes,
    mu_range: tuple[float, float] = (-2.0, 4.0),
    sigma_range: tuple[float, float] = (0.05, 3.5),
    resolution: int = 200,
    levels: int = 40,
) -> Axes:
    """Filled contours of the closed-form objective J(mu, sigma) on a rectangle of the half-plane."""
    mu = torch.linspace(*mu_range, resolution, dtype=torch.float64)
    sigma = torch.linspace(*sigma_range, resolution, dtype=torch.float64)
    mm, ss = torch.meshgrid(mu, sigma, indexing="xy")
    values = gaussian_objective(mm, ss).numpy()
    # Quantile levels: J grows like (mu - 1)^2 / 2 and -log(sigma), so equal spacing would waste levels.
    lv = np.unique(np.quantile(values, np.linspace(0, 1, levels)))
    filled = ax.contourf(mm.numpy(), ss.numpy(), values, levels=lv, cmap="viridis")
    ax.contour(mm.numpy(), ss.numpy(), values, levels=lv, colors="white", linewidths=0.3, alpha=0.6)
    ax.figure.colorbar(filled, ax=ax, label="J(μ, σ)", format="%.2f")
    ax.set_xlabel("μ")
    ax.set_ylabel("σ")
    return ax


def plot_stationary_points(ax: Axes, points: Sequence[StationaryPoint], annotate: bool = True) -> Axes:
    """Mark minima (star), saddles (cross) and maxima (triangle), optionally with the value of J."""
    for p in points:
        marker, color = _MARKERS[p.kind]
        ax.plot(p.mu, p.sigma, marker, color=color, markersize=14, markeredgecolor="white", zorder=5)
        if annotate:
            ax.annotate(
                f"{p.kind}\nJ = {p.value:.5f}",
                (p.mu, p.sigma),
                textcoords="offset points",
                xytext=(8, 6),
                fontsize=8,
                color="white",
            )
    return ax


def plot_trajectory(
    ax: Axes,
    trajectory: Trajectory,
    label: str | None = None,
    color: str = "tab:orange",
    every: int = 1,
    linewidth: float = 1.0,
    alpha: float = 0.9,
) -> Axes:
    """Draw the path (mu_k, sigma_k) of a run, every ``every``-th iterate; the start is a square."""
    mu = trajectory.mu.numpy()[::every]
    sigma = trajectory.sigma.numpy()[::every]
    ax.plot(mu, sigma, "-", color=color, linewidth=linewidth, alpha=alpha, label=label)
    ax.plot(mu[0], sigma[0], "s", color=color, markersize=7)
    return ax


def plot_log_ratio_map(
    ax: Axes,
    mu: torch.Tensor,
    sigma: torch.Tensor,
    numerator: torch.Tensor,
    denominator: torch.Tensor,
    title: str,
    limit: float = 1.5,
) -> Axes:
    """Map log10(numerator / denominator) on a (mu, sigma) grid with a diverging colour scale.

    The black line is where the ratio is 1; the colour bar is clipped at ``limit`` decades.
    """
    ratio = torch.log10(numerator / denominator).numpy()
    mesh = ax.pcolormesh(
        mu.numpy(), sigma.numpy(), ratio, cmap="RdBu_r", vmin=-limit, vmax=limit, shading="nearest"
    )
    ax.contour(mu.numpy(), sigma.numpy(), ratio, levels=[0.0], colors="black", linewidths=1.2)
    ax.figure.colorbar(mesh, ax=ax, label="log10 ratio")
    ax.set_title(title)
    ax.set_xlabel("μ")
    ax.set_ylabel("σ")
    return ax


def plot_basin_map(
    ax: Axes, basins: BasinMap, title: str | None = None, reference: BasinMap | None = None
) -> Axes:
    """Colour each start by the minimum its run ends in (grey: neither), and mark the two minima.

    With ``reference`` (e.g. the exact descent's map), its basin boundary is drawn as a black line and
    the starts whose label differs from it are dotted.
    """
    cmap = ListedColormap(["lightgrey", "tab:blue", "tab:orange"])
    mu, sigma = basins.mu.numpy(), basins.sigma.numpy()
    ax.pcolormesh(mu, sigma, basins.label.numpy(), cmap=cmap, vmin=-1.5, vmax=1.5, shading="nearest")
    if reference is not None:
        ax.contour(mu, sigma, reference.label.numpy(), levels=[0.5], colors="black", linewidths=1.2)
        differ = (basins.label != reference.label).numpy()
        mm, ss = np.meshgrid(mu, sigma)
        ax.plot(mm[differ], ss[differ], ".", color="black", markersize=2)
    for (m, s), name in zip(basins.minimizers, ("local", "global"), strict=True):
        ax.plot(m, s, "*", color="black", markersize=14, markeredgecolor="white", zorder=5)
        ax.annotate(name, (m, s), textcoords="offset points", xytext=(8, 6), fontsize=8)
    ax.set_title(title if title is not None else basins.estimator)
    ax.set_xlabel("μ₀")
    ax.set_ylabel("σ₀")
    return ax
