r"""The Gaussian objective $J(\mu,\sigma)$, its exact gradient and Hessian, and its stationary points.

$$
J(\mu,\sigma) = \mathbb{E}_{X\sim\mathcal{N}(\mu,\sigma^2)}[X\sin X]
+ \tfrac12(\mu-1)^2 + \sigma - \log\sigma ,
\qquad
\mathbb{E}[X\sin X] = e^{-\sigma^2/2}\big(\mu\sin\mu + \sigma^2\cos\mu\big).
$$

The closed form (from Stein's lemma) is the exact reference for every stochastic run; derivation:
[The closed form][the-closed-form], stationary points: [Every stationary point][every-stationary-point].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dnnf._validation import check_finite_number, check_int, check_positive

__all__ = [
    "StationaryPoint",
    "expected_x_sin_x",
    "gaussian_objective",
    "gaussian_objective_gradient",
    "gaussian_objective_hessian",
    "stationary_points",
]


def _as_params(mu: float | torch.Tensor, sigma: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``mu`` and ``sigma`` as broadcast float64 tensors; ``sigma`` must be positive."""
    for name, value in (("mu", mu), ("sigma", sigma)):
        if isinstance(value, bool) or not isinstance(value, float | int | torch.Tensor):
            raise TypeError(f"{name} must be a float or a torch.Tensor, got {type(value).__name__}")
    mu_t = torch.as_tensor(mu, dtype=torch.float64)
    sigma_t = torch.as_tensor(sigma, dtype=torch.float64)
    if not bool(torch.isfinite(mu_t).all()):
        raise ValueError("mu must be finite")
    if not bool((sigma_t > 0).all()) or not bool(torch.isfinite(sigma_t).all()):
        raise ValueError("sigma must be a positive finite scale (sigma > 0)")
    return torch.broadcast_tensors(mu_t, sigma_t)


def _pair(name: str, value: object) -> tuple[float, float]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high) of finite numbers, got {value!r}")
    return check_finite_number(f"{name}[0]", value[0]), check_finite_number(f"{name}[1]", value[1])


def expected_x_sin_x(mu: float | torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    r"""Closed form of $\mathbb{E}[X\sin X]$ for $X\sim\mathcal{N}(\mu,\sigma^2)$.

    $$
    \mathbb{E}[X\sin X] = e^{-\sigma^2/2}(\mu\sin\mu + \sigma^2\cos\mu).
    $$

    Parameters
    ----------
    mu : float or torch.Tensor
        Mean (any shape; broadcast with ``sigma``).
    sigma : float or torch.Tensor
        Standard deviation, positive.

    Returns
    -------
    torch.Tensor
        float64, differentiable in ``mu`` and ``sigma``.

    Examples
    --------
    >>> from dnnf.estimators import expected_x_sin_x
    >>> round(float(expected_x_sin_x(0.0, 1.0)), 4)  # e^{-1/2}
    0.6065
    """
    mu, sigma = _as_params(mu, sigma)
    s2 = sigma * sigma
    return torch.exp(-s2 / 2) * (mu * torch.sin(mu) + s2 * torch.cos(mu))


def gaussian_objective(mu: float | torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    r"""The Gaussian objective $J(\mu, \sigma)$ in closed form.

    $$
    J(\mu,\sigma) = e^{-\sigma^2/2}(\mu\sin\mu + \sigma^2\cos\mu) + \tfrac12(\mu-1)^2 + \sigma - \log\sigma .
    $$

    Parameters
    ----------
    mu, sigma : float or torch.Tensor
        As in [`expected_x_sin_x`][dnnf.estimators.expected_x_sin_x].

    Returns
    -------
    torch.Tensor
        float64, differentiable.

    Examples
    --------
    >>> from dnnf.estimators import gaussian_objective
    >>> round(float(gaussian_objective(1.0, 1.0)), 4)
    1.8381
    """
    mu, sigma = _as_params(mu, sigma)
    return expected_x_sin_x(mu, sigma) + 0.5 * (mu - 1) ** 2 + sigma - torch.log(sigma)


def gaussian_objective_gradient(mu: float | torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    r"""Exact gradient $(\partial_\mu J, \partial_\sigma J)$, stacked in the last dimension.

    $$
    \partial_\mu J = e^{-\sigma^2/2}\big(\sin\mu + \mu\cos\mu - \sigma^2\sin\mu\big) + \mu - 1,
    $$

    $$
    \partial_\sigma J = \sigma e^{-\sigma^2/2}\big((2-\sigma^2)\cos\mu - \mu\sin\mu\big) + 1 - \frac1\sigma.
    $$

    In the parametrisation $\sigma = e^\tau$ the second component becomes
    $\partial_\tau J = \sigma\,\partial_\sigma J$.

    Returns
    -------
    torch.Tensor
        Shape ``(*broadcast_shape, 2)``, float64.

    Examples
    --------
    >>> from dnnf.estimators import gaussian_objective_gradient
    >>> [round(v, 4) for v in gaussian_objective_gradient(1.0, 1.0).tolist()]
    [0.3277, -0.1827]
    """
    mu, sigma = _as_params(mu, sigma)
    s2 = sigma * sigma
    damp = torch.exp(-s2 / 2)
    sin, cos = torch.sin(mu), torch.cos(mu)
    d_mu = damp * (sin + mu * cos - s2 * sin) + mu - 1
    d_sigma = sigma * damp * ((2 - s2) * cos - mu * sin) + 1 - 1 / sigma
    return torch.stack([d_mu, d_sigma], dim=-1)


def gaussian_objective_hessian(mu: float | torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    r"""Exact Hessian of $J$ in $(\mu,\sigma)$, with $A = (2-\sigma^2)\cos\mu - \mu\sin\mu$:

    $$
    \partial^2_{\mu\mu} J = e^{-\sigma^2/2} A + 1, \qquad
    \partial^2_{\mu\sigma} J = -\sigma e^{-\sigma^2/2}\big((3-\sigma^2)\sin\mu + \mu\cos\mu\big),
    $$

    $$
    \partial^2_{\sigma\sigma} J = e^{-\sigma^2/2}\big((1-\sigma^2) A - 2\sigma^2\cos\mu\big)
    + \frac{1}{\sigma^2}.
    $$

    ($A$ appears in both $\partial_\sigma J$ and $\partial^2_{\mu\mu} J$ by the heat equation; see
    [The closed form][the-closed-form].)

    Returns
    -------
    torch.Tensor
        Shape ``(*broadcast_shape, 2, 2)``, float64, symmetric.

    Examples
    --------
    >>> from dnnf.estimators import gaussian_objective_hessian
    >>> [[round(v, 4) for v in row] for row in gaussian_objective_hessian(1.0, 1.0).tolist()]
    [[0.8173, -1.3485], [-1.3485, 0.3446]]
    """
    mu, sigma = _as_params(mu, sigma)
    s2 = sigma * sigma
    damp = torch.exp(-s2 / 2)
    sin, cos = torch.sin(mu), torch.cos(mu)
    a = (2 - s2) * cos - mu * sin
    h_mm = damp * a + 1
    h_ms = -sigma * damp * ((3 - s2) * sin + mu * cos)
    h_ss = damp * ((1 - s2) * a - 2 * s2 * cos) + 1 / s2
    return torch.stack([torch.stack([h_mm, h_ms], -1), torch.stack([h_ms, h_ss], -1)], -2)


@dataclass(frozen=True)
class StationaryPoint:
    r"""A stationary point of $J$ with its Hessian eigenvalues (in $(\mu,\sigma)$) and its type.

    The type is the same in any smooth reparametrisation such as $\sigma = e^\tau$: at a stationary point
    the Hessians are congruent, $H_\tau = D H_\sigma D$ with $D = \mathrm{diag}(1,\sigma)$ (Sylvester's law).

    Examples
    --------
    >>> from dnnf.estimators import stationary_points
    >>> p = stationary_points(mu_range=(0.0, 1.0), sigma_range=(0.1, 1.0), grid=(5, 4))[0]
    >>> p.kind, round(p.value, 4), all(e > 0 for e in p.hessian_eigenvalues)
    ('minimum', 1.6962, True)
    """

    mu: float
    sigma: float
    value: float
    hessian_eigenvalues: tuple[float, float]
    kind: str


def stationary_points(
    mu_range: tuple[float, float] = (-20.0, 40.0),
    sigma_range: tuple[float, float] = (0.02, 6.0),
    *,
    grid: tuple[int, int] = (241, 24),
    tol: float = 1e-12,
    num_steps: int = 100,
) -> list[StationaryPoint]:
    r"""Every stationary point of $J$ found by Newton's method from a grid of starts in a rectangle.

    Newton runs on $(\mu, \tau = \log\sigma)$, so iterates keep $\sigma>0$; steps are capped at length 1 so
    that a start far from a root cannot jump across the region. Converged points (largest gradient entry
    below ``tol``) inside the rectangle are de-duplicated and classified by the eigenvalues of
    [`gaussian_objective_hessian`][dnnf.estimators.gaussian_objective_hessian].

    Parameters
    ----------
    mu_range, sigma_range : tuple of float
        The rectangle $[\mu_0,\mu_1]\times[\sigma_0,\sigma_1]$, $\sigma_0 > 0$.
    grid : tuple of int
        Number of starts along $\mu$ (uniform) and $\sigma$ (geometric).
    tol : float
        Convergence threshold on the max-norm of the $(\mu,\sigma)$ gradient.
    num_steps : int
        Newton iterations per start.

    Returns
    -------
    list of StationaryPoint
        Sorted by $\mu$.

    Examples
    --------
    >>> from dnnf.estimators import stationary_points
    >>> points = stationary_points(mu_range=(-3.0, 3.0), sigma_range=(0.1, 3.0), grid=(25, 8))
    >>> [(round(p.mu, 3), round(p.sigma, 3), p.kind) for p in points]
    [(0.442, 0.606, 'minimum'), (0.863, 1.174, 'saddle'), (1.367, 1.962, 'minimum')]
    """
    m0, m1 = _pair("mu_range", mu_range)
    s0, s1 = _pair("sigma_range", sigma_range)
    if not (m0 < m1):
        raise ValueError(f"mu_range must be (low, high) with low < high, got {mu_range!r}")
    if not (0 < s0 < s1):
        raise ValueError(f"sigma_range must be (low, high) with 0 < low < high, got {sigma_range!r}")
    if not isinstance(grid, tuple | list) or len(grid) != 2:
        raise TypeError(f"grid must be a pair of integers >= 2, got {grid!r}")
    grid = (check_int("grid[0]", grid[0], minimum=2), check_int("grid[1]", grid[1], minimum=2))
    tol = check_positive("tol", tol)
    num_steps = check_int("num_steps", num_steps, minimum=1)
    mus = torch.linspace(m0, m1, grid[0], dtype=torch.float64)
    taus = torch.linspace(float(torch.log(torch.tensor(s0))), float(torch.log(torch.tensor(s1))), grid[1])
    y = torch.cartesian_prod(mus, taus.to(torch.float64))
    for _ in range(num_steps):
        mu, sigma = y[:, 0], torch.exp(y[:, 1])
        g = gaussian_objective_gradient(mu, sigma)
        h = gaussian_objective_hessian(mu, sigma)
        # Chain rule for (mu, tau): G = (J_mu, sigma J_sigma) and its Jacobian in (mu, tau).
        g_tau = torch.stack([g[:, 0], sigma * g[:, 1]], -1)
        j11, j12 = h[:, 0, 0], sigma * h[:, 0, 1]
        j22 = sigma * g[:, 1] + sigma**2 * h[:, 1, 1]
        # 2x2 symmetric Newton system solved in closed form; singular starts get a NaN step, parked below.
        det = j11 * j22 - j12 * j12
        step = torch.stack([j22 * g_tau[:, 0] - j12 * g_tau[:, 1], j11 * g_tau[:, 1] - j12 * g_tau[:, 0]], -1)
        step = step / det.unsqueeze(-1)
        step = step / step.norm(dim=-1, keepdim=True).clamp(min=1.0)
        # Starts that run off (|mu| or sigma huge, sigma -> 0) are parked on the box below and discarded.
        y = (y - step).nan_to_num(nan=1e3, posinf=1e3, neginf=-1e3)
        y = torch.stack([y[:, 0].clamp(-1e3, 1e3), y[:, 1].clamp(-30.0, 3.0)], -1)
    mu, sigma = y[:, 0], torch.exp(y[:, 1])
    inside = (mu >= m0) & (mu <= m1) & (sigma >= s0) & (sigma <= s1)
    grad = gaussian_objective_gradient(mu[inside], sigma[inside])
    found = y[inside][grad.abs().amax(dim=-1) < tol]
    points: list[StationaryPoint] = []
    for mu_k, tau_k in found.tolist():
        sigma_k = float(torch.exp(torch.tensor(tau_k, dtype=torch.float64)))
        if any(abs(p.mu - mu_k) < 1e-6 and abs(p.sigma - sigma_k) < 1e-6 for p in points):
            continue
        eig = torch.linalg.eigvalsh(gaussian_objective_hessian(mu_k, sigma_k))
        kind = "minimum" if eig[0] > 0 else ("maximum" if eig[1] < 0 else "saddle")
        value = float(gaussian_objective(mu_k, sigma_k))
        points.append(StationaryPoint(mu_k, sigma_k, value, (float(eig[0]), float(eig[1])), kind))
    return sorted(points, key=lambda p: p.mu)
