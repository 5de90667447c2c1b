r"""Stochastic gradient descent on the Gaussian objective $J(\mu,\sigma)$, parametrised by $\sigma = e^\tau$.

Only $\mathbb{E}[X\sin X]$ is estimated (score-function or pathwise); the gradient of the deterministic part
$\tfrac12(\mu-1)^2 + e^\tau - \tau$ is exact. Step $k$ uses the step size $\eta_k = \eta/(1 + k/k_{1/2})$
(constant when $k_{1/2}$ is ``None``), which shrinks the noise ball around the minimiser.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Normal

from dnnf._validation import (
    check_finite,
    check_finite_number,
    check_int,
    check_num_samples,
    check_positive,
    check_positive_int,
)

from .gaussian_objective import _as_params, gaussian_objective_gradient, gaussian_objective_hessian
from .pathwise import pathwise_surrogate
from .score_function import Baseline, score_function_surrogate

# sigma = e^tau overflows (or underflows to 0) in float64 near |tau| = 709: such an iterate has diverged.
_MAX_LOG_SIGMA = 700.0

__all__ = [
    "Trajectory",
    "basin_minimizer",
    "descent_direction",
    "iterations_to_reach",
    "optimize_gaussian_objective",
    "running_average",
    "x_sin_x",
]


def x_sin_x(x: torch.Tensor) -> torch.Tensor:
    r"""The integrand $f(x) = x\sin x$ of the Gaussian objective (elementwise).

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import x_sin_x
    >>> [round(v, 4) for v in x_sin_x(torch.tensor([0.0, 2.0], dtype=torch.float64)).tolist()]  # 2 sin 2
    [0.0, 1.8186]
    """
    check_finite("x", x)
    return x * torch.sin(x)


@dataclass(frozen=True)
class Trajectory:
    r"""Iterates $(\mu_k, \sigma_k)$, $k = 0, \dots, n$ (float64 tensors of length ``num_steps + 1``).

    Examples
    --------
    >>> from dnnf.estimators import optimize_gaussian_objective
    >>> run = optimize_gaussian_objective("exact", 0.0, 1.0, lr=0.1, num_steps=500)
    >>> run.mu.shape, run.estimator, round(float(run.mu[-1]), 3), round(float(run.sigma[-1]), 3)
    (torch.Size([501]), 'exact', 0.442, 0.606)
    """

    mu: torch.Tensor
    sigma: torch.Tensor
    estimator: str


def descent_direction(
    estimator: str, mu: torch.Tensor, tau: torch.Tensor, num_samples: int, baseline: Baseline = "loo"
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$(\partial_\mu J, \partial_\tau J)$ at every entry of ``mu`` and ``tau`` (same shape).

    ``'exact'`` evaluates [`gaussian_objective_gradient`][dnnf.estimators.gaussian_objective_gradient];
    ``'score'`` and ``'pathwise'`` estimate the gradient of $\mathbb{E}[X\sin X]$ from ``num_samples`` draws
    per entry (independent across entries) and add the exact gradient of $\tfrac12(\mu-1)^2 + e^\tau - \tau$.
    This is the direction of step (6).

    Examples
    --------
    With ``"exact"`` it is the exact gradient; at $\sigma = 1$, $\partial_\tau J = \partial_\sigma J$:

    >>> import torch
    >>> from dnnf.estimators import descent_direction
    >>> mu, tau = torch.tensor([0.0, 2.0], dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    >>> g_mu, g_tau = descent_direction("exact", mu, tau, num_samples=32)
    >>> [round(v, 4) for v in g_mu.tolist()], [round(v, 4) for v in g_tau.tolist()]
    ([-1.0, 0.4952], [0.6065, -1.3554])
    """
    for name, value in (("mu", mu), ("tau", tau)):
        if not torch.is_tensor(value) or not value.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor, got {value!r:.60}")
        check_finite(name, value)
    if estimator == "exact":
        sigma = tau.detach().exp()
        g = gaussian_objective_gradient(mu.detach(), sigma)
        return g[..., 0], sigma * g[..., 1]
    mu = mu if mu.requires_grad else mu.detach().requires_grad_()
    tau = tau if tau.requires_grad else tau.detach().requires_grad_()
    dist = Normal(mu, tau.exp())
    if estimator == "score":
        expectation = score_function_surrogate(x_sin_x, dist, num_samples, baseline=baseline)
    else:
        expectation = pathwise_surrogate(x_sin_x, dist, num_samples)
    loss = expectation + 0.5 * (mu - 1) ** 2 + tau.exp() - tau
    g_mu, g_tau = torch.autograd.grad(loss.sum(), (mu, tau))
    return g_mu, g_tau


def optimize_gaussian_objective(
    estimator: str,
    mu0: float = 0.0,
    sigma0: float = 1.0,
    *,
    lr: float = 0.05,
    num_steps: int = 1000,
    num_samples: int = 32,
    baseline: Baseline = "loo",
    decay_steps: float | None = None,
) -> Trajectory:
    r"""Minimise $J$ by (stochastic) gradient descent on $(\mu,\tau)$, $\sigma = e^\tau$.

    $$
    (\mu,\tau)_{k+1} = (\mu,\tau)_k - \eta_k\,\big(\hat g_\mu + \mu_k - 1,\ \hat g_\tau + e^{\tau_k} - 1\big),
    $$

    where $(\hat g_\mu, \hat g_\tau)$ estimates $\nabla_{(\mu,\tau)}\mathbb{E}[X\sin X]$ from ``num_samples``
    draws.
    Uses torch's global random generator: seed it with ``torch.manual_seed`` for a reproducible run.

    Parameters
    ----------
    estimator : {'score', 'pathwise', 'exact'}
        ``'exact'`` uses [`gaussian_objective_gradient`][dnnf.estimators.gaussian_objective_gradient]
        (deterministic gradient descent, which defines the basin a run belongs to).
    mu0, sigma0 : float
        Start, ``sigma0 > 0``.
    lr : float
        Base step size $\eta > 0$.
    num_steps : int
        Number of steps.
    num_samples : int
        Draws per step (ignored by ``'exact'``).
    baseline : {'loo'}, None, float or torch.Tensor
        Baseline of the score-function estimator.
    decay_steps : float or None
        $k_{1/2}$ of the step-size schedule; ``None`` keeps $\eta$ constant.

    Returns
    -------
    Trajectory
        All iterates, the start included.

    Examples
    --------
    Exact descent and pathwise SGD from $(0, 1)$ reach the minimum near $(0.442, 0.607)$:

    >>> import torch
    >>> from dnnf.estimators import optimize_gaussian_objective
    >>> exact = optimize_gaussian_objective("exact", 0.0, 1.0, lr=0.1, num_steps=500)
    >>> round(float(exact.mu[-1]), 3), round(float(exact.sigma[-1]), 3)
    (0.442, 0.606)
    >>> _ = torch.manual_seed(0)
    >>> sgd = optimize_gaussian_objective("pathwise", 0.0, 1.0, lr=0.1, num_steps=500, num_samples=32)
    >>> round(float(sgd.mu[-1]), 1), round(float(sgd.sigma[-1]), 1)
    (0.4, 0.6)
    """
    if estimator not in ("score", "pathwise", "exact"):
        raise ValueError(f"estimator must be 'score', 'pathwise' or 'exact', got {estimator!r}")
    mu0 = check_finite_number("mu0", mu0)
    sigma0 = check_positive("sigma0", sigma0)
    lr = check_positive("lr", lr)
    num_steps = check_positive_int("num_steps", num_steps)
    if estimator != "exact":
        check_num_samples(num_samples)
    if decay_steps is not None:
        decay_steps = check_positive("decay_steps", decay_steps)
    mu = torch.tensor(float(mu0), dtype=torch.float64, requires_grad=True)
    tau = torch.tensor(float(sigma0), dtype=torch.float64).log().requires_grad_()
    mus = torch.empty(num_steps + 1, dtype=torch.float64)
    taus = torch.empty(num_steps + 1, dtype=torch.float64)
    mus[0], taus[0] = mu.detach(), tau.detach()
    for k in range(num_steps):
        g_mu, g_tau = descent_direction(estimator, mu, tau, num_samples, baseline)
        step = lr if decay_steps is None else lr / (1 + k / decay_steps)
        with torch.no_grad():
            mu -= step * g_mu
            tau -= step * g_tau
        if not (torch.isfinite(mu) and bool(tau.abs() < _MAX_LOG_SIGMA)):
            raise FloatingPointError(
                f"the iterate diverged at step {k + 1} (mu={float(mu.detach()):.4g}, "
                f"sigma={float(tau.detach().exp()):.4g}); "
                f"lower lr (now {lr})"
            )
        mus[k + 1], taus[k + 1] = mu.detach(), tau.detach()
    return Trajectory(mu=mus, sigma=taus.exp(), estimator=estimator)


def _check_trajectory(trajectory: object) -> None:
    if not isinstance(trajectory, Trajectory):
        raise TypeError(f"trajectory must be a Trajectory, got {type(trajectory).__name__}")


def running_average(trajectory: Trajectory, start: int) -> Trajectory:
    r"""Polyak-Ruppert averaging: $\bar x_k = \frac{1}{k-s+1}\sum_{j=s}^{k} x_j$ for $k \geq s$, $x_k$ before.

    With a constant step, SGD iterates keep fluctuating in a noise ball around the minimiser; their average
    converges at the rate $O(1/\sqrt{k})$ of the best unbiased estimate (Polyak and Juditsky, 1992).

    Parameters
    ----------
    trajectory : Trajectory
        Iterates $x_k = (\mu_k, \sigma_k)$.
    start : int
        First averaged step $s$ (a burn-in that discards the transient).

    Returns
    -------
    Trajectory
        Same length as ``trajectory``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import Trajectory, running_average
    >>> run = Trajectory(mu=torch.tensor([0.0, 1.0, 2.0, 3.0]), sigma=torch.ones(4), estimator="exact")
    >>> running_average(run, start=1).mu.tolist()
    [0.0, 1.0, 1.5, 2.0]
    """
    _check_trajectory(trajectory)
    n = trajectory.mu.numel()
    start = check_int("start", start, minimum=0, maximum=n - 1)
    counts = torch.arange(1, n - start + 1, dtype=trajectory.mu.dtype)

    def average(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x[:start], x[start:].cumsum(0) / counts])

    return Trajectory(average(trajectory.mu), average(trajectory.sigma), trajectory.estimator)


def basin_minimizer(
    mu0: float, sigma0: float, *, lr: float = 0.1, num_steps: int = 20000
) -> tuple[float, float]:
    r"""The local minimiser that exact gradient descent on $(\mu,\tau)$ reaches from $(\mu_0,\sigma_0)$.

    Runs exact descent (step ``lr``) until $\|\nabla_{(\mu,\tau)} J\| < 10^{-6}$, then polishes with
    Newton steps on $(\mu,\sigma)$ to $\|\nabla J\|_\infty < 10^{-13}$.

    Returns
    -------
    tuple of float
        $(\mu^\star, \sigma^\star)$.

    Raises
    ------
    RuntimeError
        If descent does not converge in ``num_steps`` or Newton ends at a point that is not a minimum.

    Examples
    --------
    >>> from dnnf.estimators import basin_minimizer
    >>> [round(v, 4) for v in basin_minimizer(0.0, 1.0)]
    [0.4423, 0.6065]
    """
    mu_t, sigma_t = _as_params(check_finite_number("mu0", mu0), check_positive("sigma0", sigma0))
    lr = check_positive("lr", lr)
    num_steps = check_positive_int("num_steps", num_steps)
    x = torch.stack([mu_t, sigma_t.log()])
    for _ in range(num_steps):
        sigma = x[1].exp()
        g = gaussian_objective_gradient(x[0], sigma)
        g_tau = torch.stack([g[0], sigma * g[1]])
        if float(g_tau.norm()) < 1e-6:
            break
        x = x - lr * g_tau
        if not (bool(torch.isfinite(x).all()) and abs(float(x[1])) < _MAX_LOG_SIGMA):
            raise FloatingPointError(f"exact descent from ({mu0}, {sigma0}) diverged; lower lr (now {lr})")
    else:
        raise RuntimeError(f"exact descent from ({mu0}, {sigma0}) did not converge in {num_steps} steps")
    p = torch.stack([x[0], x[1].exp()])
    for _ in range(20):
        g = gaussian_objective_gradient(p[0], p[1])
        if float(g.abs().max()) < 1e-13:
            break
        p = p - torch.linalg.solve(gaussian_objective_hessian(p[0], p[1]), g)
    if float(torch.linalg.eigvalsh(gaussian_objective_hessian(p[0], p[1]))[0]) <= 0:
        raise RuntimeError(f"descent from ({mu0}, {sigma0}) ended at a saddle, not a minimum")
    return float(p[0]), float(p[1])


def iterations_to_reach(trajectory: Trajectory, target: tuple[float, float], tol: float = 1e-2) -> int | None:
    r"""First step $k$ from which the run stays within ``tol`` of ``target``.

    That is, every $j \geq k$ has $\|(\mu_j,\sigma_j) - (\mu^\star,\sigma^\star)\|_2 < \delta$,
    with $\delta$ = ``tol``.

    Returns
    -------
    int or None
        ``None`` when the last iterate is not within ``tol``.

    Examples
    --------
    >>> from dnnf.estimators import basin_minimizer, iterations_to_reach, optimize_gaussian_objective
    >>> run = optimize_gaussian_objective("exact", 0.0, 1.0, lr=0.1, num_steps=500)
    >>> iterations_to_reach(run, basin_minimizer(0.0, 1.0), tol=1e-2)
    35
    """
    _check_trajectory(trajectory)
    if not isinstance(target, tuple | list) or len(target) != 2:
        raise TypeError(f"target must be a pair (mu, sigma) of finite numbers, got {target!r}")
    target = (check_finite_number("target[0]", target[0]), check_finite_number("target[1]", target[1]))
    tol = check_positive("tol", tol)
    dist = torch.hypot(trajectory.mu - target[0], trajectory.sigma - target[1])
    outside = torch.nonzero(dist >= tol).flatten()
    if outside.numel() == 0:
        return 0
    last = int(outside[-1])
    return None if last == dist.numel() - 1 else last + 1
