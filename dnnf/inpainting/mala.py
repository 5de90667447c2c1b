r"""The model's conditional mean $\mathbb E[x_U \mid x_K]$ by Metropolis-adjusted Langevin (MALA).

The hole is written $x_U = \sigma(u)$ with the logistic $\sigma$, and the chains target, exactly,

$$
\pi(u) \propto p\big(y_K, \sigma(u)\big) \prod_{i \in U} \sigma(u_i)\big(1 - \sigma(u_i)\big),
$$

with MALA proposals $u' = u + \varepsilon \nabla \log \pi(u) + \sqrt{2 \varepsilon}\, \xi$ (Roberts and
Tweedie, 1996). Each chain adapts its $\varepsilon$ during the warm-up towards the acceptance rate 0.574
(Roberts and Rosenthal, 1998), then freezes it. The estimate is the average of $\sigma(u_t)$ over the chains
and the kept iterations. Derivation: [The conditional mean, exactly: MALA][the-conditional-mean-exactly-mala].
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from dnnf._validation import (
    check_generator,
    check_images,
    check_int,
    check_positive,
    check_probability,
    log_prob_function,
)
from dnnf.inpainting.constraint import initial_fill
from dnnf.inpainting.masks import expand_mask

__all__ = ["MALAResult", "mala_inpaint"]

# Start the chains this far inside the box: sigma^{-1} of a pixel at exactly 0 or 1 is infinite.
_START_MARGIN = 0.02


@dataclass(frozen=True)
class MALAResult:
    r"""What [`mala_inpaint`][dnnf.inpainting.mala_inpaint] returns.

    Attributes
    ----------
    mean : torch.Tensor
        ``(B, C, H, W)``: the estimate of $\mathbb E[x_U \mid x_K]$ on the hole, the known pixels exactly.
    samples : torch.Tensor
        ``(S, B, C, H, W)``: the chains' last states, ``S`` completions of each image.
    acceptance : torch.Tensor
        ``(S, B)``: each chain's acceptance rate after the warm-up (``nan`` if there were no kept steps).
    step_size : torch.Tensor
        ``(S, B)``: each chain's step size $\varepsilon$ after the warm-up.
    log_prob : torch.Tensor
        ``(T + 1, S, B)``: $\log p(x_t)$ along every chain (pixel-space density of the model).

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, mala_inpaint
    >>> def log_p(x):  # independent N(0.5, 0.1^2) pixels: the best completion is 0.5
    ...     return -((x - 0.5) ** 2).flatten(1).sum(1) / (2 * 0.1**2)
    >>> result = mala_inpaint(log_p, torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2),
    ...                       num_chains=4, num_steps=50, generator=torch.Generator().manual_seed(0))
    >>> result.samples.shape, result.acceptance.shape, result.log_prob.shape
    (torch.Size([4, 1, 1, 4, 4]), torch.Size([4, 1]), torch.Size([51, 4, 1]))
    """

    mean: torch.Tensor
    samples: torch.Tensor
    acceptance: torch.Tensor
    step_size: torch.Tensor
    log_prob: torch.Tensor


def mala_inpaint(
    model: Callable[[torch.Tensor], torch.Tensor],
    images: torch.Tensor,
    known: torch.Tensor,
    *,
    num_chains: int = 8,
    num_steps: int = 400,
    warmup: int | None = None,
    step_size: float = 0.01,
    target_acceptance: float = 0.574,
    adaptation_rate: float = 0.1,
    init: str | torch.Tensor = "diffusion",
    generator: torch.Generator | None = None,
) -> MALAResult:
    r"""Estimate the model's conditional mean of the hole by MALA chains in logistic coordinates.

    Parameters
    ----------
    model
        Object with ``log_prob(x) -> (B,)`` or such a callable (see [`dnnf.inpainting.inpaint`][]);
        it must accept pixels in the open interval $(0, 1)$.
    images
        Images ``(B, C, H, W)`` in [0, 1]; only their known pixels are read.
    known
        Boolean mask (``True`` = observed), broadcastable to ``images``.
    num_chains
        Chains per image, $S$.
    num_steps
        MALA steps per chain, $T$ (warm-up included).
    warmup
        Steps $T_0$ during which $\varepsilon$ adapts and which the average leaves out; default
        ``num_steps // 2``. Must be less than ``num_steps``.
    step_size
        Initial $\varepsilon$ in the logistic coordinates $u$.
    target_acceptance
        $a^\star \in (0, 1)$.
    adaptation_rate
        $\gamma > 0$.
    init
        Starting point of every chain, see [`dnnf.inpainting.initial_fill`][]; hole pixels are then
        clamped to $[0.02, 0.98]$ so that $u_0 = \sigma^{-1}(x_0)$ is finite.
    generator
        Random number generator for the proposals and the accept tests (drawn on its device).

    Returns
    -------
    MALAResult
        The conditional-mean estimate, the last states, acceptance rates, step sizes and traces.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, mala_inpaint
    >>> def log_p(x):  # independent N(0.5, 0.1^2) pixels: the best completion is 0.5
    ...     return -((x - 0.5) ** 2).flatten(1).sum(1) / (2 * 0.1**2)
    >>> result = mala_inpaint(log_p, torch.full((1, 1, 4, 4), 0.75), centre_square_mask(4, 4, size=2),
    ...                       num_chains=4, num_steps=200, generator=torch.Generator().manual_seed(0))
    >>> [round(v, 1) for v in result.mean[0, 0, 1].tolist()]  # the conditional mean 0.5 in the hole
    [0.8, 0.5, 0.5, 0.8]
    """
    check_generator("generator", generator)
    log_prob = log_prob_function(model)
    check_images("images", images)
    mask = expand_mask(known, images)
    num_chains = check_int("num_chains", num_chains, 1)
    num_steps = check_int("num_steps", num_steps, 1)
    warmup = num_steps // 2 if warmup is None else check_int("warmup", warmup, 0)
    if warmup >= num_steps:
        raise ValueError(f"warmup must be less than num_steps = {num_steps}, got {warmup}")
    eps0 = check_positive("step_size", step_size)
    target = check_probability("target_acceptance", target_acceptance)
    gamma = check_positive("adaptation_rate", adaptation_rate)

    batch = images.shape[0]
    shape = (num_chains, *images.shape)
    flat = (num_chains * batch, *images.shape[1:])
    base = images.expand(shape).reshape(flat)
    hole = ~mask.expand(shape).reshape(flat)
    start = initial_fill(images, mask, init).clamp(_START_MARGIN, 1 - _START_MARGIN)
    u = torch.logit(start).expand(shape).reshape(flat).clone()

    def log_target(v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log pi(v), its gradient on the hole, log p(x)) for a batch of chains."""
        v = v.detach().requires_grad_(True)
        x = torch.where(hole, torch.sigmoid(v), base)
        log_px = log_prob(x)
        # log sigma'(v) = log sigma(v) + log sigma(-v): the Jacobian of x_U = sigma(u).
        log_jac = torch.where(hole, F.logsigmoid(v) + F.logsigmoid(-v), 0.0).flatten(1).sum(1)
        value = log_px + log_jac
        (grad,) = torch.autograd.grad(value.sum(), v)
        return value.detach(), torch.where(hole, grad, 0.0), log_px.detach()

    def log_proposal(
        to: torch.Tensor, frm: torch.Tensor, grad: torch.Tensor, eps: torch.Tensor
    ) -> torch.Tensor:
        """log q(to | frm) up to a constant: the Gaussian around the Langevin step from ``frm``."""
        return -(to - frm - eps * grad).square().flatten(1).sum(1) / (4 * eps.flatten())

    device = generator.device if generator is not None else images.device
    eps = torch.full((flat[0], 1, 1, 1), eps0, dtype=images.dtype, device=images.device)
    value, grad, log_px = log_target(u)
    history = [log_px]
    accepted = torch.zeros(flat[0], dtype=images.dtype, device=images.device)
    total = torch.zeros(flat, dtype=images.dtype, device=images.device)
    for t in range(num_steps):
        noise = torch.randn(flat, generator=generator, device=device, dtype=images.dtype).to(images.device)
        proposal = torch.where(hole, u + eps * grad + torch.sqrt(2 * eps) * noise, u)
        value_p, grad_p, log_px_p = log_target(proposal)
        log_ratio = (
            value_p - value + log_proposal(u, proposal, grad_p, eps) - log_proposal(proposal, u, grad, eps)
        )
        uniform = torch.rand(flat[0], generator=generator, device=device, dtype=images.dtype)
        accept = torch.log(uniform.to(images.device)) < log_ratio
        a = accept.view(-1, 1, 1, 1)
        u, grad = torch.where(a, proposal, u), torch.where(a, grad_p, grad)
        value, log_px = torch.where(accept, value_p, value), torch.where(accept, log_px_p, log_px)
        history.append(log_px)
        if t < warmup:
            eps = eps * torch.exp(gamma * (a.to(images.dtype) - target))
            if not bool(((eps > 0) & torch.isfinite(eps)).all()):
                raise FloatingPointError(
                    f"the step-size adaptation left (0, inf) at step {t + 1}; "
                    f"lower adaptation_rate (now {gamma})"
                )
        else:
            accepted += accept.to(images.dtype)
            total += torch.sigmoid(u)
    kept = num_steps - warmup
    states = torch.where(hole, torch.sigmoid(u), base).view(shape)
    mean = (total / kept).view(shape).mean(dim=0)
    return MALAResult(
        mean=torch.where(mask, images, mean).detach(),
        samples=states.detach(),
        acceptance=(accepted / kept).view(num_chains, batch).cpu(),
        step_size=eps.view(num_chains, batch).cpu(),
        log_prob=torch.stack(history).view(num_steps + 1, num_chains, batch).cpu(),
    )
