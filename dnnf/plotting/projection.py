"""Figures for the projection chapter: 2-D sets, objective contours, iterate paths, projection arrows.

Each helper draws on a given matplotlib ``Axes`` and returns it, so figures compose freely.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.patches import Circle, Polygon, Rectangle

__all__ = [
    "draw_box",
    "draw_l1_ball",
    "draw_l2_ball",
    "draw_simplex",
    "plot_iterates",
    "plot_objective_contours",
    "plot_projection_arrows",
]

_SET_STYLE = {"facecolor": "tab:blue", "alpha": 0.15, "edgecolor": "tab:blue", "linewidth": 2}


def draw_box(ax: Axes, lower: Sequence[float], upper: Sequence[float], label: str | None = None) -> Axes:
    """Shade the box ``[lower[0], upper[0]] x [lower[1], upper[1]]``; a flat box is drawn as a segment."""
    (x0, y0), (x1, y1) = lower, upper
    if x0 == x1 or y0 == y1:
        ax.plot([x0, x1], [y0, y1], color="tab:blue", linewidth=3, solid_capstyle="round", label=label)
    else:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, label=label, **_SET_STYLE))
    return ax


def draw_l2_ball(
    ax: Axes, radius: float = 1.0, center: Sequence[float] = (0.0, 0.0), label: str | None = None
) -> Axes:
    """Shade the disc of the given radius and centre."""
    ax.add_patch(Circle(tuple(center), radius, label=label, **_SET_STYLE))
    return ax


def draw_l1_ball(ax: Axes, radius: float = 1.0, label: str | None = None) -> Axes:
    """Shade the diamond ``|x_1| + |x_2| <= radius``."""
    r = radius
    ax.add_patch(Polygon([(r, 0), (0, r), (-r, 0), (0, -r)], closed=True, label=label, **_SET_STYLE))
    return ax


def draw_simplex(ax: Axes, total: float = 1.0, label: str | None = None) -> Axes:
    """Draw the 2-D simplex, the segment from ``(total, 0)`` to ``(0, total)``."""
    ax.plot([total, 0], [0, total], color="tab:blue", linewidth=3, solid_capstyle="round", label=label)
    return ax


def plot_objective_contours(
    ax: Axes,
    f: Callable[[torch.Tensor], torch.Tensor],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    levels: int = 20,
    resolution: int = 200,
) -> Axes:
    """Contour lines of a scalar function ``f`` of a 2-vector (evaluated with ``torch.vmap`` on a grid)."""
    gx = torch.linspace(*xlim, resolution, dtype=torch.float64)
    gy = torch.linspace(*ylim, resolution, dtype=torch.float64)
    xx, yy = torch.meshgrid(gx, gy, indexing="xy")
    points = torch.stack([xx, yy], dim=-1).reshape(-1, 2)
    with torch.no_grad():
        values = torch.vmap(f)(points).reshape(resolution, resolution)
    ax.contour(xx.numpy(), yy.numpy(), values.numpy(), levels=levels, cmap="viridis", linewidths=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    return ax


def plot_iterates(ax: Axes, xs: torch.Tensor, label: str | None = None, color: str = "tab:red") -> Axes:
    """Draw the path of 2-D iterates ``xs`` (shape ``(K + 1, 2)``): start as a square, end as a star."""
    path = np.asarray(xs.detach().cpu(), dtype=float)
    ax.plot(path[:, 0], path[:, 1], "-o", color=color, markersize=3, linewidth=1, label=label)
    ax.plot(*path[0], "s", color=color, markersize=7)
    ax.plot(*path[-1], "*", color="black", markersize=12)
    return ax


def plot_projection_arrows(
    ax: Axes, project: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, color: str = "gray"
) -> Axes:
    """Draw an arrow from each 2-D point ``y`` (rows of ``points``) to its projection ``project(y)``."""
    with torch.no_grad():
        targets = project(points)
    y = np.asarray(points.cpu(), dtype=float)
    p = np.asarray(targets.cpu(), dtype=float)
    ax.quiver(
        y[:, 0],
        y[:, 1],
        p[:, 0] - y[:, 0],
        p[:, 1] - y[:, 1],
        angles="xy",
        scale_units="xy",
        scale=1,
        color=color,
        width=0.004,
    )
    ax.plot(y[:, 0], y[:, 1], ".", color=color, markersize=4)
    ax.plot(p[:, 0], p[:, 1], "o", color="tab:orange", markersize=4)
    return ax
