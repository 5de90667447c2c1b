"""Smoke tests of ``dnnf.plotting.projection`` (Agg backend): each helper draws what it says."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from dnnf.plotting.projection import (  # noqa: E402
    draw_box,
    draw_l1_ball,
    draw_l2_ball,
    draw_simplex,
    plot_iterates,
    plot_objective_contours,
    plot_projection_arrows,
)
from dnnf.projection import project_box  # noqa: E402


@pytest.mark.claim("projection/index.md#figures", note="the tutorial's figure helpers")
def test_helpers_draw_on_the_axes():
    """Sets become patches or lines, contours a contour set, iterates a path ending at the last iterate,
    and projection arrows point from y to the projection computed by the library."""
    fig, ax = plt.subplots()
    draw_box(ax, (0, 0), (1, 2))
    draw_box(ax, (0.5, 0), (0.5, 1))  # the flat box {a} x [0, 1] is a segment
    draw_l2_ball(ax, 1.0, (0, 0))
    draw_l1_ball(ax, 1.0)
    draw_simplex(ax, 1.0)
    assert len(ax.patches) == 3 and len(ax.lines) == 2
    plot_objective_contours(ax, lambda x: (x * x).sum(), (-1, 1), (-1, 1), levels=5, resolution=20)
    assert ax.collections
    xs = torch.tensor([[1.0, 1.0], [0.5, 0.2], [0.0, 0.0]])
    plot_iterates(ax, xs)
    assert np.allclose(ax.lines[-1].get_xydata(), [[0.0, 0.0]])
    y = torch.tensor([[2.0, 3.0], [-1.0, 0.5]])
    plot_projection_arrows(
        ax, lambda v: project_box(v, torch.tensor([0.5, 0.0]), torch.tensor([0.5, 1.0])), y
    )
    assert np.allclose(ax.lines[-1].get_xydata(), [[0.5, 1.0], [0.5, 0.5]])
    plt.close(fig)
