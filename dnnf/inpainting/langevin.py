r"""Several plausible completions by projected Langevin dynamics.

$$
x_{t+1} = \Pi_C\big(x_t + \eta \nabla \log p(x_t) + \sqrt{2 \eta}\, \xi_t\big), \qquad
\xi_t \sim \mathcal N(0, I),
$$

with $C$ the constraint box of [`box_bounds`][dnnf.inpainting.box_bounds]: the chain moves the hole only
and targets $p(x_U \mid x_K)$ approximately (an $O(\eta)$ bias, no Metropolis correction, and clamping
piles a little mass on the faces of the box). Derivation:
[Several completions: projected Langevin][several-completions-projected-langevin].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from dnnf._validation import check_generator, check_images, check_int, check_positive, log_prob_function
from dnnf.inpainting.constraint import box_bounds, initial_fill
from dnnf.inpainting.masks import expand_mask
from dnnf.projection import project_box

__all__ = ["LangevinResult", "langevin_inpaint"]


@dataclass(frozen=True)
class LangevinResult:
    r"""What [`langevin_inpaint`][dnnf.inpainting.langevin_inpaint] returns.

    Attributes
    ----------
    samples : torch.Tensor
        Shape ``(S, B, C, H, W)``: ``S`` completions of each of the ``B`` images (the chains' last states).
    log_prob : torch.Tensor
        Shape ``(T + 1, S, B)``: $\log p(x_t)$ along every chain.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, langevin_inpaint
    >>> def log_p(x):  # independent N(0.5, 0.1^2) pixels: the best completion is 0.5
    ...     return -((x - 0.5) ** 2).flatten(1).sum(1) / (2 * 0.1**2)
    >>> result = langevin_inpaint(log_p, torch.full((2, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2),
    ...                           num_chains=3, step_size=1e-3, num_steps=10,
    ...                           generator=torch.Generator().manual_seed(0))
    >>> result.samples.shape, result.log_prob.shape  # (S, B, C, H, W) and (T + 1, S, B)
    (torch.Size([3, 2, 1, 4, 4]), torch.Size([11, 3, 2]))
    """

    samples: torch.Tensor
    log_prob: torch.Tensor


def langevin_inpaint(
    model: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    known: torch.Tensor,
    *,
    num_chains: int = 4,
    step_size: float = 1e-5,
    num_steps: int = 500,
    init: str | torch.Tensor = "diffusion",
    generator: torch.Generator | None = None,
) -> LangevinResult:
    r"""Draw ``num_chains`` completions of each image (one per chain) by projected Langevin dynamics.

    Parameters
    ----------
    model
        Object with ``log_prob(x) -> (B,)`` or such a callable (see [`dnnf.inpainting.inpaint`][]).
    images
        Images ``(B, C, H, W)`` in [0, 1]; only their known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``.
    num_chains
        Independent chains per image, $S$.
    step_size
        $\eta$. The gradient of a flow's log-density in pixel space is large, so $\eta$ is small.
    num_steps
        Steps per chain, $T$.
    init
        Starting point of every chain, see [`dnnf.inpainting.initial_fill`][].
    generator
        Random number generator for the noise $\xi_t$ (drawn on the generator's device).

    Returns
    -------
    LangevinResult
        Final states and log-likelihood traces.

    Examples
    --------
    For independent Gaussian pixels the chains sample $\mathcal N(0.5, 0.1^2)$ in the hole:

    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, langevin_inpaint
    >>> def log_p(x):  # independent N(0.5, 0.1^2) pixels: the best completion is 0.5
    ...     return -((x - 0.5) ** 2).flatten(1).sum(1) / (2 * 0.1**2)
    >>> result = langevin_inpaint(log_p, torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2),
    ...                           num_chains=200, step_size=1e-3, num_steps=200, init="mean",
    ...                           generator=torch.Generator().manual_seed(0))
    >>> hole = result.samples[:, 0, 0, 1:3, 1:3]
    >>> result.samples.shape, round(hole.mean().item(), 2), round(hole.std().item(), 2)
    (torch.Size([200, 1, 1, 4, 4]), 0.5, 0.1)
    """
    check_generator("generator", generator)
    log_prob = log_prob_function(model)
    check_images("images", images)
    mask = expand_mask(known, images)
    num_chains = check_int("num_chains", num_chains, 1)
    num_steps = check_int("num_steps", num_steps, 0)
    eta = check_positive("step_size", step_size)

    shape = (num_chains, *images.shape)
    flat = (num_chains * images.shape[0], *images.shape[1:])
    lower, upper = (b.expand(shape).reshape(flat) for b in box_bounds(images, mask))
    x = initial_fill(images, mask, init).expand(shape).reshape(flat).clone()
    noise_device = generator.device if generator is not None else images.device
    history = []
    for t in range(num_steps + 1):
        x.requires_grad_(True)
        value = log_prob(x)
        history.append(value.detach().view(num_chains, -1))
        if t == num_steps:
            break
        (grad,) = torch.autograd.grad(value.sum(), x)
        noise = torch.randn(flat, generator=generator, device=noise_device, dtype=x.dtype).to(x.device)
        with torch.no_grad():
            x = project_box(x.detach() + eta * grad + math.sqrt(2.0 * eta) * noise, lower, upper)
    return LangevinResult(samples=x.detach().view(shape), log_prob=torch.stack(history).cpu())
