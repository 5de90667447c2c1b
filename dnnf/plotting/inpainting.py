"""Figures for the inpainting chapter: image grids with the hole marked, and log-likelihood curves."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["COLUMN_WIDTH", "show_inpainting_grid", "plot_log_likelihood_curves"]

COLUMN_WIDTH = 5.8
"""Width in inches of a figure that fills the book's text column (about 580 px at matplotlib's 100 dpi)."""


def show_inpainting_grid(
    rows: dict[str, torch.Tensor],
    known: torch.Tensor | None = None,
    hole_rows: tuple[str, ...] = ("corrupted",),
    title: str | None = None,
    scale: float = 1.0,
    width: float | None = COLUMN_WIDTH,
) -> Figure:
    """Draw images in a grid: one row per entry of ``rows``, one column per image.

    Parameters
    ----------
    rows
        Row label -> images ``(B, 1, H, W)`` in [0, 1] (same ``B`` for every row).
    known
        Optional boolean mask broadcastable to the images; in the rows named in ``hole_rows`` the
        missing pixels are drawn in red, so the hole is visible even where the digit is black.
    hole_rows
        Labels of the rows whose hole is marked.
    title
        Figure title.
    scale
        Largest size of one image in inches.
    width
        Width of the figure in inches (default: the book's text column, so that the labels are shown at
        their size rather than scaled down); the images shrink to fit. ``None``: ``scale`` alone decides.

    Returns
    -------
    matplotlib.figure.Figure
    """
    labels = list(rows)
    batch = rows[labels[0]].shape[0]
    if width is not None:  # about 1.5 in for the row labels, the rest for the images
        scale = min(scale, (width - 1.5) / batch)
    fig, axes = plt.subplots(len(labels), batch, figsize=(scale * batch + 1.5, scale * len(labels) + 0.4),
                             squeeze=False)  # fmt: skip
    cmap = plt.get_cmap("gray").with_extremes(bad="tab:red")
    for r, label in enumerate(labels):
        images = rows[label].detach().float().cpu()
        if known is not None and label in hole_rows:
            hole = ~torch.broadcast_to(known.cpu(), images.shape)
            images = images.masked_fill(hole, float("nan"))
        for b in range(batch):
            ax = axes[r, b]
            ax.imshow(np.ma.masked_invalid(images[b, 0].numpy()), cmap=cmap, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        # a long label ("nice_smoothed, projected Adam") on two lines keeps the images wide
        axes[r, 0].set_ylabel(label.replace(", ", ",\n"), rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(pad=0.3, h_pad=0.15, w_pad=0.15)  # small gaps: the digits fill the width
    return fig


def plot_log_likelihood_curves(
    curves: dict[str, torch.Tensor],
    ax: Axes | None = None,
    ylabel: str = "log-likelihood (nats per image)",
) -> Axes:
    """Plot, per method, the median over images of a per-step quantity with its interquartile band.

    Parameters
    ----------
    curves
        Method label -> tensor ``(T + 1, B)`` (e.g. ``log_prob`` of
        [`InpaintingResult`][dnnf.inpainting.InpaintingResult]).
    ax
        Axes to draw on (default: a new figure).
    ylabel
        Label of the vertical axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
    for label, values in curves.items():
        v = values.detach().double().cpu()
        q = torch.quantile(v, torch.tensor([0.25, 0.5, 0.75], dtype=v.dtype), dim=1).numpy()
        steps = np.arange(v.shape[0])
        (line,) = ax.plot(steps, q[1], label=label)
        ax.fill_between(steps, q[0], q[2], color=line.get_color(), alpha=0.2)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax
