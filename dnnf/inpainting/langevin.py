r"""Several plausible completions by projected Langevin dynamics.

Gradient ascent finds one completion, a mode of $p(x_U \mid x_K)$. To draw several, add noise to each
step and project back onto the constraint box $C$ (see :mod:`dnnf.inpainting.ascent`):

$$
x_{t+1} = \Pi_C\big(x_t + \eta \nabla \log p(x_t) + \sqrt{2 \eta}\, \xi_t\big), \qquad
\xi_t \sim \mathcal N(0, I).
$$

On the known pixels the projection undoes both the step and the noise, so the chain moves the hole
only, and its target is the conditional density $p(x_U \mid x_K) \propto p(x_K, x_U)$ restricted to
$[0, 1]^{|U|}$. The chain is **approximate**: a fixed step $\eta$ leaves an $O(\eta)$ bias (there is no
Metropolis correction) and clamping, unlike reflection, piles a little mass on the faces of the box.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from dnnf._validation import check_generator, check_images, check_int, check_positive, log_prob_function
from dnnf.inpainting.ascent import box_bounds, initial_fill
from dnnf.inpainting.masks import expand_mask
from dnnf.projection import project_box

__all__ = ["LangevinResult", "langevin_inpaint"]


@dataclass(frozen=True)
class LangevinResult:
    r"""What :func:`langevin_inpaint` returns.

    Attributes
    ----------
    samples : torch.Tensor
        Shape ``(S, B, C, H, W)``: ``S`` completions of each of the ``B`` images (the chains' last states).
    log_prob : torch.Tensor
        Shape ``(T + 1, S, B)``: $\log p(x_t)$ along every chain.
    """

    samples: torch.Tensor
    log_prob: torch.Tensor


def langevin_inpaint(
    model: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    known: torch.Tensor,
    *,
    num_samples: int = 4,
    step_size: float = 1e-5,
    num_steps: int = 500,
    init: str | torch.Tensor = "diffusion",
    generator: torch.Generator | None = None,
) -> LangevinResult:
    r"""Draw ``num_samples`` completions of each image by projected Langevin dynamics.

    Parameters
    ----------
    model
        Object with ``log_prob(x) -> (B,)`` or such a callable (see :func:`dnnf.inpainting.inpaint`).
    images
        Images ``(B, C, H, W)`` in [0, 1]; only their known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``.
    num_samples
        Independent chains per image, $S$.
    step_size
        $\eta$. The gradient of a flow's log-density in pixel space is large, so $\eta$ is small.
    num_steps
        Steps per chain, $T$.
    init
        Starting point of every chain, see :func:`dnnf.inpainting.initial_fill`.
    generator
        Random number generator for the noise $\xi_t$ (drawn on the generator's device).

    Returns
    -------
    LangevinResult
        Final states and log-likelihood traces.
    """
    check_generator("generator", generator)
    log_prob = log_prob_function(model)
    check_images("images", images)
    mask = expand_mask(known, images)
    num_samples = check_int("num_samples", num_samples, 1)
    num_steps = check_int("num_steps", num_steps, 0)
    eta = check_positive("step_size", step_size)

    shape = (num_samples, *images.shape)
    flat = (num_samples * images.shape[0], *images.shape[1:])
    lower, upper = (b.expand(shape).reshape(flat) for b in box_bounds(images, mask))
    x = initial_fill(images, mask, init).expand(shape).reshape(flat).clone()
    noise_device = generator.device if generator is not None else images.device
    history = []
    for t in range(num_steps + 1):
        x.requires_grad_(True)
        value = log_prob(x)
        history.append(value.detach().view(num_samples, -1))
        if t == num_steps:
            break
        (grad,) = torch.autograd.grad(value.sum(), x)
        noise = torch.randn(flat, generator=generator, device=noise_device, dtype=x.dtype).to(x.device)
        with torch.no_grad():
            x = project_box(x.detach() + eta * grad + math.sqrt(2.0 * eta) * noise, lower, upper)
    return LangevinResult(samples=x.detach().view(shape), log_prob=torch.stack(history).cpu())
