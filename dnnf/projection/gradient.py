r"""The projected gradient method $x_{k+1} = \Pi_C\big(x_k - t_k \nabla f(x_k)\big)$.

It works with any projection (for example those of [`dnnf.projection.sets`][]) and stops on the norm of
the gradient mapping

$$
G_t(x) = \frac1t\Big(x - \Pi_C\big(x - t\nabla f(x)\big)\Big),
$$

which vanishes exactly at the fixed points of the iteration, i.e. at the points satisfying the first-order
optimality condition $\langle \nabla f(x^\star), z - x^\star\rangle \ge 0$ for all $z \in C$.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from dnnf._validation import check_finite, check_finite_number, check_int, check_positive

__all__ = ["PGDResult", "projected_gradient_descent"]


@dataclass(frozen=True)
class PGDResult:
    r"""What [`projected_gradient_descent`][dnnf.projection.projected_gradient_descent] returns.

    Attributes
    ----------
    x : torch.Tensor
        The last iterate $x_K$ (feasible: it is the output of the projection).
    f : float
        $f(x_K)$.
    num_steps : int
        Number of gradient steps taken, $K$.
    converged : bool
        Whether $\|G_{t}(x_K)\| \le$ ``tol`` was reached before ``num_steps`` steps.
    f_history : torch.Tensor
        Shape ``(K + 1,)``: $f(x_0), \dots, f(x_K)$, with $x_0 = \Pi_C$ (``x0``).
    gradient_mapping_norms : torch.Tensor
        Shape ``(K + 1,)``: $\|G_{t_k}(x_k)\|_2$ for $k = 0, \dots, K$.
    step_sizes : torch.Tensor
        Shape ``(K + 1,)``: the step $t_k$ used to compute $G_{t_k}(x_k)$ (constant unless backtracking).
    x_history : torch.Tensor or None
        Shape ``(K + 1, *x0.shape)``: the iterates $x_0, \dots, x_K$, or ``None`` when
        ``record_x=False``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.projection import project_simplex, projected_gradient_descent
    >>> res = projected_gradient_descent(lambda x: (x**2).sum(), torch.tensor([1.0, 0.0]), project_simplex,
    ...                                  step_size=0.25)
    >>> [round(v, 4) for v in res.x.tolist()], round(res.f, 4), res.converged
    ([0.5, 0.5], 0.5, True)
    >>> res.f_history.shape[0] == res.num_steps + 1
    True
    """

    x: torch.Tensor
    f: float
    num_steps: int
    converged: bool
    f_history: torch.Tensor
    gradient_mapping_norms: torch.Tensor
    step_sizes: torch.Tensor
    x_history: torch.Tensor | None


def _value_and_grad(
    f: Callable[[torch.Tensor], torch.Tensor],
    grad: Callable[[torch.Tensor], torch.Tensor] | None,
    x: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``f(x)`` (detached) and its gradient, by ``grad`` when given, else by autograd."""
    if grad is not None:
        with torch.no_grad():
            value = f(x)
            g = grad(x)
        if not torch.is_tensor(g) or g.shape != x.shape:
            raise ValueError(f"grad(x) must return a tensor of x's shape {tuple(x.shape)}")
    else:
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            value = f(xg)
            _check_scalar(value)
            # A constant f returns a tensor outside the graph; its gradient is zero, not an error.
            g = torch.autograd.grad(value, xg)[0] if value.requires_grad else torch.zeros_like(xg)
    _check_scalar(value)
    return value.detach(), g.detach()


def _check_scalar(value: object) -> None:
    if not torch.is_tensor(value) or value.numel() != 1:
        raise ValueError("f(x) must return a scalar tensor (sum over a batch of independent problems)")


def projected_gradient_descent(
    f: Callable[[torch.Tensor], torch.Tensor],
    x0: torch.Tensor,
    project: Callable[[torch.Tensor], torch.Tensor],
    *,
    step_size: float | None = None,
    grad: Callable[[torch.Tensor], torch.Tensor] | None = None,
    num_steps: int = 1000,
    tol: float = 1e-6,
    record_x: bool = True,
    backtrack_factor: float = 0.5,
) -> PGDResult:
    r"""Minimise a smooth $f$ over a closed convex set $C$ by projected gradient steps.

    Starting from $x_0 = \Pi_C(x^{(0)})$ it iterates

    $$
    x_{k+1} = \Pi_C\big(x_k - t\,\nabla f(x_k)\big) = x_k - t\,G_t(x_k)
    $$

    and stops as soon as $\|G_t(x_k)\|_2 \le$ ``tol`` (then $x_k$ is a fixed point up to ``tol``) or
    after ``num_steps`` steps.

    With an $L$-Lipschitz gradient and $0 < t \le 1/L$: $f(x_{k+1}) \le f(x_k) - \tfrac t2 \|G_t(x_k)\|^2$;
    for convex $f$, $f(x_k) - f^\star \le \|x_0 - x^\star\|^2 / (2tk)$; for $\mu$-strongly convex $f$,
    $\|x_k - x^\star\| \le (1 - t\mu)^k \|x_0 - x^\star\|$. Without ``step_size``, backtracking shrinks $t$ by
    $\beta$ = ``backtrack_factor`` until the quadratic upper model holds, so $t_k \ge \min\{1, \beta/L\}$.
    Proofs: [Projected gradient descent][projected-gradient-descent].

    Parameters
    ----------
    f : callable
        ``f(x) -> scalar tensor``, differentiable by autograd unless ``grad`` is given. For a batch of
        independent problems, return the sum of their objectives.
    x0 : torch.Tensor
        Starting point (floating point, finite); it is projected first.
    project : callable
        ``project(x) -> tensor of x's shape``, the projection $\Pi_C$, e.g.
        ``lambda x: project_box(x, 0.0, 1.0)``.
    step_size : float, optional
        Constant step $t > 0$, ideally $1/L$. Omitted: backtracking line search.
    grad : callable, optional
        ``grad(x) -> tensor of x's shape``, $\nabla f(x)$; autograd on ``f`` when omitted.
    num_steps : int, default 1000
        Maximum number of steps ($\ge 0$).
    tol : float, default 1e-6
        Stop when $\|G_t(x_k)\|_2 \le$ ``tol`` ($\ge 0$).
    record_x : bool, default True
        Keep every iterate in ``x_history`` (memory: ``num_steps + 1`` copies of ``x0``).
    backtrack_factor : float, default 0.5
        $\beta \in (0, 1)$, the factor by which backtracking shrinks the step.

    Returns
    -------
    PGDResult
        Last iterate, its value, histories of $f$, $\|G_t\|$, steps and (optionally) iterates.

    Raises
    ------
    TypeError
        If ``x0`` is not a floating-point tensor or ``f``, ``project`` or ``grad`` is not callable.
    ValueError
        If ``x0`` is not finite, a numeric argument is out of range, ``f`` does not return a scalar,
        or ``project``/``grad`` change the shape.

    Examples
    --------
    Minimise $\|x - (2, -1)\|^2$ over the box $[0, 1]^2$; the answer is the corner $(1, 0)$:

    >>> import torch
    >>> from dnnf.projection import project_box, projected_gradient_descent
    >>> target = torch.tensor([2.0, -1.0], dtype=torch.float64)
    >>> res = projected_gradient_descent(
    ...     lambda x: ((x - target) ** 2).sum(), torch.zeros(2, dtype=torch.float64),
    ...     lambda x: project_box(x, 0.0, 1.0), step_size=0.5)
    >>> res.x.tolist(), res.num_steps, res.converged
    ([1.0, 0.0], 1, True)
    """
    if not torch.is_tensor(x0) or not torch.is_floating_point(x0):
        raise TypeError("x0 must be a floating-point torch.Tensor")
    check_finite("x0", x0)
    for name, fn in (("f", f), ("project", project)):
        if not callable(fn):
            raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
    if grad is not None and not callable(grad):
        raise TypeError(f"grad must be callable or None, got {type(grad).__name__}")
    t = None if step_size is None else check_positive("step_size", step_size)
    num_steps = check_int("num_steps", num_steps, minimum=0)
    tol = check_positive("tol", tol, allow_zero=True)
    beta = check_finite_number("backtrack_factor", backtrack_factor)
    if not 0.0 < beta < 1.0:
        raise ValueError(f"backtrack_factor must lie strictly between 0 and 1, got {backtrack_factor!r}")

    def proj(z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            p = project(z)
        if not torch.is_tensor(p) or p.shape != z.shape:
            raise ValueError(f"project(x) must return a tensor of x's shape {tuple(z.shape)}")
        return p

    x = proj(x0.detach())
    slack = 8.0 * torch.finfo(x.dtype).eps
    value, g = _value_and_grad(f, grad, x)
    t_k = 1.0 if t is None else t
    xs, fs, gms, steps = [x], [float(value)], [], []
    converged = False
    taken = 0
    while True:
        x_new = proj(x - t_k * g)
        if t is None:
            # Backtrack until the quadratic upper model at x majorises f at the trial point.
            while True:
                value_new, g_new = _value_and_grad(f, grad, x_new)
                d = x_new - x
                model = value + torch.sum(g * d) + torch.sum(d * d) / (2.0 * t_k)
                # A few ulps of slack: near a minimiser f(x_new) and the model agree to rounding error,
                # and an exact comparison would shrink the step for no reason.
                if value_new <= model + slack * (1.0 + abs(float(value))):
                    break
                t_k *= beta
                if t_k < 1e-30:
                    raise FloatingPointError(
                        "backtracking shrank the step below 1e-30: is f smooth and grad its gradient?"
                    )
                x_new = proj(x - t_k * g)
        gm = float(torch.linalg.vector_norm(x - x_new)) / t_k
        gms.append(gm)
        steps.append(t_k)
        if gm <= tol:
            converged = True
            break
        if taken == num_steps:
            break
        if t is not None:
            value_new, g_new = _value_and_grad(f, grad, x_new)
        if not math.isfinite(float(value_new)):
            raise FloatingPointError(f"f became non-finite at step {taken + 1}; the step size is too large")
        x, value, g = x_new, value_new, g_new
        taken += 1
        fs.append(float(value))
        if record_x:
            xs.append(x)

    return PGDResult(
        x=x,
        f=fs[-1],
        num_steps=taken,
        converged=converged,
        f_history=torch.tensor(fs, dtype=torch.float64),
        gradient_mapping_norms=torch.tensor(gms, dtype=torch.float64),
        step_sizes=torch.tensor(steps, dtype=torch.float64),
        x_history=torch.stack(xs) if record_x else None,
    )
