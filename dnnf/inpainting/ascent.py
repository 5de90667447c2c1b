r"""Inpainting as projected gradient ascent on a model's log-likelihood.

With known pixels $K$ of an image $y \in [0, 1]^d$ and the hole $U = K^c$, the completion is

$$
\hat x = \operatorname*{arg\,max}_{x \in C} \log p(x), \qquad
C = \{x \in [0, 1]^d : x_i = y_i \text{ for } i \in K\},
$$

found by $x_{t+1} = \Pi_C(x_t + \eta_t s_t)$ with $s_t = \nabla \log p(x_t)$ (``optimizer="sgd"``) or
Adam's direction (``optimizer="adam"``); $C$ is a box, so $\Pi_C$ is a clamp
([The constraint set is a box][the-constraint-set-is-a-box]). The images of a batch do not interact:
a batch gives the same completions as one image at a time. Derivation and stopping rule:
[Projected gradient ascent][projected-gradient-ascent].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from dnnf._validation import check_images, check_int, check_positive, log_prob_function
from dnnf.inpainting.constraint import box_bounds, initial_fill
from dnnf.inpainting.masks import expand_mask
from dnnf.projection import project_box

__all__ = ["InpaintingResult", "PLAIN_SGD_RECIPE", "inpaint"]

PLAIN_SGD_RECIPE = {
    "optimizer": "sgd",
    "lr": 1e-3,
    "num_steps": 300,
    "schedule": "constant",
    "tol": None,
    "init": "zeros",
}
"""Keyword arguments of [`inpaint`][dnnf.inpainting.inpaint] for 300 plain SGD steps with learning rate
$10^{-3}$ from the corrupted image (hole set to 0), no schedule and no stopping rule: the recipe of the
homework's reference solution (problem 3), kept as the book's point of comparison.

Examples
--------
>>> from dnnf.inpainting import PLAIN_SGD_RECIPE
>>> PLAIN_SGD_RECIPE["optimizer"], PLAIN_SGD_RECIPE["lr"], PLAIN_SGD_RECIPE["num_steps"]
('sgd', 0.001, 300)
"""


@dataclass(frozen=True)
class InpaintingResult:
    r"""What [`inpaint`][dnnf.inpainting.inpaint] returns.

    Attributes
    ----------
    images : torch.Tensor
        The completions ``(B, C, H, W)``; known pixels equal the input's exactly, all pixels in [0, 1].
    log_prob : torch.Tensor
        Shape ``(T + 1, B)``: $\log p(x_t)$ of every image at steps $t = 0, \dots, T$ (an image that
        has stopped keeps its last value).
    num_steps : torch.Tensor
        Shape ``(B,)``: the steps each image took before its stopping rule fired (or the budget ran out).
    converged : torch.Tensor
        Shape ``(B,)``, boolean: whether the stopping rule fired.

    Examples
    --------
    With the default stopping rule the ascent stops once the log-likelihood has stalled:

    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, inpaint
    >>> def log_p(x):  # independent N(0.5, 0.1^2) pixels: the best completion is 0.5
    ...     return -((x - 0.5) ** 2).flatten(1).sum(1) / (2 * 0.1**2)
    >>> result = inpaint(log_p, torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2))
    >>> result.converged.tolist(), result.num_steps.tolist(), result.log_prob.shape  # T + 1 = 30 values
    ([True], [29], torch.Size([30, 1]))
    """

    images: torch.Tensor
    log_prob: torch.Tensor
    num_steps: torch.Tensor
    converged: torch.Tensor


def inpaint(
    model: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    known: torch.Tensor,
    *,
    optimizer: str = "adam",
    lr: float = 0.03,
    num_steps: int = 300,
    schedule: str = "cosine",
    tol: float | None = 1e-4,
    patience: int = 20,
    init: str | torch.Tensor = "diffusion",
) -> InpaintingResult:
    r"""Fill in the missing pixels by projected gradient ascent on $\log p(x)$ over $C$.

    Parameters
    ----------
    model
        The density: an object with a ``log_prob(x) -> (B,)`` method (e.g. a
        [`dnnf.flows.NormalizingFlow`][]) or a callable with that signature. Put it in eval mode;
        freezing its parameters (``model.requires_grad_(False)``) saves computing their gradients.
    images
        Images ``(B, C, H, W)`` in [0, 1]; only their known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``
        (see [`dnnf.inpainting.masks`][]).
    optimizer
        ``"adam"`` or ``"sgd"`` (plain gradient ascent, as in ``PLAIN_SGD_RECIPE``).
    lr
        The (initial) step size $\eta_0$.
    num_steps
        Most ascent steps per image.
    schedule
        ``"constant"`` ($\eta_t = \eta_0$) or ``"cosine"``
        ($\eta_t = \eta_0 \, \tfrac12 (1 + \cos(\pi t / T))$ with $T$ = ``num_steps``).
    tol, patience
        Stopping rule: an image stops once its log-likelihood has risen by less than ``tol`` nats per
        missing pixel over the last ``patience`` steps. ``tol=None`` runs all ``num_steps``.
    init
        Starting point, see [`initial_fill`][dnnf.inpainting.initial_fill].

    Returns
    -------
    InpaintingResult
        Completions, log-likelihood curves, steps taken, stopping flags.

    Raises
    ------
    ValueError
        Bad images or mask (see [`dnnf.inpainting.masks.expand_mask`][]), a model that cannot
        evaluate images of this shape or returns a log-likelihood of the wrong shape or a non-finite one.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, inpaint
    >>> def log_p(x):  # independent N(0.5, 0.1^2) pixels: the best completion is 0.5
    ...     return -((x - 0.5) ** 2).flatten(1).sum(1) / (2 * 0.1**2)
    >>> images, known = torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2)
    >>> result = inpaint(log_p, images, known, num_steps=300, tol=None)
    >>> [round(v, 4) for v in result.images[0, 0, 1].tolist()], result.log_prob.shape
    ([0.75, 0.5, 0.5, 0.75], torch.Size([301, 1]))
    """
    log_prob = log_prob_function(model)
    check_images("images", images)
    mask = expand_mask(known, images)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")
    lr = check_positive("lr", lr)
    num_steps = check_int("num_steps", num_steps, 0)
    patience = check_int("patience", patience, 1)
    if tol is not None:
        tol = check_positive("tol", tol, allow_zero=True)

    lower, upper = box_bounds(images, mask)
    x = initial_fill(images, mask, init).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr) if optimizer == "adam" else torch.optim.SGD([x], lr=lr)
    sched = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(num_steps, 1))
        if schedule == "cosine"
        else None
    )

    batch = images.shape[0]
    num_missing = (~mask).flatten(1).sum(dim=1).to(images.dtype)
    active = torch.ones(batch, dtype=torch.bool, device=images.device)
    steps_taken = torch.zeros(batch, dtype=torch.long, device=images.device)
    history = []
    for t in range(num_steps + 1):
        value = log_prob(x)
        history.append(value.detach())
        if tol is not None and t >= patience:
            gain = (history[t] - history[t - patience]) / num_missing
            active &= gain >= tol
        if t == num_steps or not bool(active.any()):
            break
        (grad,) = torch.autograd.grad(value.sum(), x)
        # torch optimisers minimise: hand them the gradient of -log p, and keep stopped images still.
        x.grad = torch.where(active.view(-1, 1, 1, 1), -grad, 0.0)
        before = x.detach().clone()
        opt.step()
        with torch.no_grad():
            x.copy_(torch.where(active.view(-1, 1, 1, 1), project_box(x, lower, upper), before))
        steps_taken += active
        if sched is not None:
            sched.step()
    converged = ~active if tol is not None else torch.zeros_like(active)
    return InpaintingResult(
        images=x.detach(),
        log_prob=torch.stack(history).cpu(),
        num_steps=steps_taken.cpu(),
        converged=converged.cpu(),
    )
