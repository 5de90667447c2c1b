r"""Run several inpainting methods on the same images and masks and tabulate their hole PSNR.

Used by the tutorial and by ``scripts/bench_inpainting.py`` so that both report the same numbers. The
table shows, per mask and method, the mean of $\mathrm{PSNR}_U$ over images with its standard error
$s / \sqrt{n}$ ($s$ the sample standard deviation over the $n$ images).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from dnnf.inpainting.ascent import PLAIN_SGD_RECIPE, inpaint
from dnnf.inpainting.baselines import diffusion_fill, mean_fill
from dnnf.inpainting.kde import kde_conditional_mean
from dnnf.inpainting.langevin import langevin_inpaint
from dnnf.inpainting.mala import mala_inpaint
from dnnf.inpainting.metrics import psnr

__all__ = ["inpainting_methods", "psnr_table", "format_psnr_table"]

Method = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def inpainting_methods(
    model: object,
    mean_image: torch.Tensor | None = None,
    langevin_kwargs: dict | None = None,
    mala_kwargs: dict | None = None,
    kde: tuple[torch.Tensor, float] | None = None,
    **ascent_kwargs,
) -> dict[str, Method]:
    r"""The chapter's methods, each a function ``(images, known) -> completions``.

    Parameters
    ----------
    model
        The density (see [`dnnf.inpainting.inpaint`][]).
    mean_image
        ``(C, H, W)`` training-set mean image for the mean-fill baseline (default: each image's mean
        over its known pixels).
    langevin_kwargs
        When given, also ``"Langevin mean"``: the average of the chains of
        [`dnnf.inpainting.langevin_inpaint`][] run with these keyword arguments, an estimate of the
        model's conditional mean $\mathbb E[x_U \mid x_K]$ (the model's best guess for the MSE).
    mala_kwargs
        When given, also ``"MALA mean"``: [`dnnf.inpainting.mala_inpaint`][]'s estimate of the same
        conditional mean by chains with an exact stationary law, run with these keyword arguments.
    kde
        When given as ``(train_images, bandwidth)``, also ``"KDE yardstick"``: the exact conditional mean
        of the training set's Gaussian kernel density estimate ([`dnnf.inpainting.kde_conditional_mean`][]).
    **ascent_kwargs
        Keyword arguments of [`dnnf.inpainting.inpaint`][] for the improved method (default: its
        defaults: Adam, cosine schedule, stopping rule, diffusion start).

    Returns
    -------
    dict
        ``"mean fill"``, ``"diffusion fill"``, ``"plain SGD"``
        ([`PLAIN_SGD_RECIPE`][dnnf.inpainting.PLAIN_SGD_RECIPE]) and ``"projected Adam"`` (then ``"Langevin
        mean"``, ``"MALA mean"`` and ``"KDE yardstick"`` when asked for).

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, inpainting_methods
    >>> def log_p(x):  # independent N(0.5, 0.1^2) pixels
    ...     return -((x - 0.5) ** 2).flatten(1).sum(1) / (2 * 0.1**2)
    >>> methods = inpainting_methods(log_p, num_steps=50)
    >>> list(methods)
    ['mean fill', 'diffusion fill', 'plain SGD', 'projected Adam']
    >>> filled = methods["projected Adam"](torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2))
    >>> round(filled[0, 0, 1, 1].item(), 1)
    0.5
    """
    methods: dict[str, Method] = {
        "mean fill": lambda x, k: mean_fill(x, k, mean_image),
        "diffusion fill": diffusion_fill,
        "plain SGD": lambda x, k: inpaint(model, x, k, **PLAIN_SGD_RECIPE).images,
        "projected Adam": lambda x, k: inpaint(model, x, k, **ascent_kwargs).images,
    }
    if langevin_kwargs is not None:
        # The chains' average estimates the conditional mean, which minimises the expected squared error.
        methods["Langevin mean"] = lambda x, k: langevin_inpaint(model, x, k, **langevin_kwargs).samples.mean(
            0
        )
    if mala_kwargs is not None:
        methods["MALA mean"] = lambda x, k: mala_inpaint(model, x, k, **mala_kwargs).mean
    if kde is not None:
        train_images, bandwidth = kde
        methods["KDE yardstick"] = lambda x, k: kde_conditional_mean(x, k, train_images, bandwidth)
    return methods


def psnr_table(
    methods: dict[str, Method], images: torch.Tensor, masks: dict[str, torch.Tensor]
) -> tuple[dict[str, dict[str, torch.Tensor]], dict[str, dict[str, torch.Tensor]]]:
    r"""Run every method on every mask.

    Parameters
    ----------
    methods
        Name -> ``(images, known) -> completions``.
    images
        Ground-truth images ``(B, C, H, W)`` in [0, 1].
    masks
        Mask name -> known mask broadcastable to ``images``.

    Returns
    -------
    tuple of dict
        ``(psnr, completions)``, each ``mask name -> method name -> tensor``: per-image
        $\mathrm{PSNR}_U$ ``(B,)`` and the completions ``(B, C, H, W)``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, mean_fill, psnr_table
    >>> images = torch.full((3, 1, 4, 4), 0.75)
    >>> masks = {"centre": centre_square_mask(4, 4, 2)}
    >>> scores, completions = psnr_table({"mean fill": mean_fill}, images, masks)
    >>> scores["centre"]["mean fill"].tolist(), completions["centre"]["mean fill"].shape  # a perfect fill
    ([inf, inf, inf], torch.Size([3, 1, 4, 4]))
    """
    scores: dict[str, dict[str, torch.Tensor]] = {}
    outputs: dict[str, dict[str, torch.Tensor]] = {}
    for mask_name, known in masks.items():
        scores[mask_name], outputs[mask_name] = {}, {}
        for name, method in methods.items():
            completed = method(images, known)
            outputs[mask_name][name] = completed
            scores[mask_name][name] = psnr(completed, images, known).cpu()
    return scores, outputs


def format_psnr_table(scores: dict[str, dict[str, torch.Tensor]]) -> str:
    """Markdown table: one row per mask, one column per method, ``mean ± standard error`` in dB.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import format_psnr_table
    >>> scores = {"centre": {"A": torch.tensor([10.0, 12.0]), "B": torch.tensor([20.0, 20.0])}}
    >>> print(format_psnr_table(scores))
    | mask | A | B |
    |---|---|---|
    | centre | 11.00 ± 1.00 | 20.00 ± 0.00 |
    """
    methods = list(next(iter(scores.values())))
    lines = ["| mask | " + " | ".join(methods) + " |", "|---" * (len(methods) + 1) + "|"]
    for mask_name, row in scores.items():
        cells = []
        for name in methods:
            v = row[name].double()
            cells.append(f"{v.mean().item():.2f} ± {v.std().item() / math.sqrt(v.numel()):.2f}")
        lines.append(f"| {mask_name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
