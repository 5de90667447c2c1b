"""Figures for the rare-events chapter: estimates with error bars, relative variance curves.

Each helper draws on a given matplotlib ``Axes`` and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes

from dnnf.rare_events import RareEventEstimate

__all__ = ["plot_estimates", "plot_relative_variance"]


def plot_estimates(
    ax: Axes, results: Mapping[str, RareEventEstimate], exact: float, level: float = 0.95
) -> Axes:
    """One row per estimator: ``estimate / exact`` with its confidence interval, and a line at 1.

    An estimate with no hits is drawn as a cross at 0 and labelled "no hits" (its interval is empty).
    """
    if exact <= 0:
        raise ValueError(f"exact must be positive, got {exact!r}")
    names = list(results)
    for row, name in enumerate(names):
        result = results[name]
        if result.num_hits == 0:
            ax.plot(0.0, row, "x", color="tab:red", markersize=9)
            ax.annotate("no hits", (0.0, row), xytext=(8, 4), textcoords="offset points", color="tab:red")
            continue
        lo, hi = result.confidence_interval(level)
        centre = result.estimate / exact
        ax.errorbar(centre, row, xerr=[[centre - lo / exact], [hi / exact - centre]], fmt="o", capsize=4)
    ax.axvline(1.0, color="black", linewidth=1, linestyle="--", label="exact")
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(f"estimate / exact value ({int(round(100 * level))}% interval)")
    ax.legend(loc="lower right")
    return ax


def plot_relative_variance(
    ax: Axes,
    x: Sequence[float],
    exact: Sequence[float] | None = None,
    simulated: Sequence[float] | None = None,
    xlabel: str = "q",
    label: str = "",
) -> Axes:
    """Relative variance per path on a log scale: an exact curve and/or simulated points."""
    x = np.asarray(x, dtype=float)
    if exact is not None:
        ax.plot(x, np.asarray(exact, dtype=float), "-", label=f"exact (DP){label}")
    if simulated is not None:
        ax.plot(x, np.asarray(simulated, dtype=float), "o", label=f"simulated{label}")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("relative variance per path")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return ax
