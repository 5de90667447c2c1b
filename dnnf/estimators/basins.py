r"""Problem 6: which minimum of $J(\mu,\sigma)$ each starting point is sent to, by exact descent or by SGD."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .gaussian_objective import _as_params, stationary_points
from .gaussian_sgd import descent_direction
from .score_function import Baseline

__all__ = ["BasinMap", "basin_map"]

_POLISH_STEPS = 2000  # exact descent steps that take an SGD end point to the minimum of its basin


@dataclass(frozen=True)
class BasinMap:
    r"""Where runs started on a grid of $(\mu_0, \sigma_0)$ end.

    Attributes
    ----------
    mu, sigma : Tensor
        The grid axes, shapes ``(M,)`` and ``(S,)``.
    label : Tensor
        ``(S, M)`` int64: ``0`` if the run ends in the basin of the local minimum, ``1`` in that of the
        global minimum, ``-1`` otherwise (not converged, or left the region).
    end_mu, end_sigma : Tensor
        ``(S, M)``: the end point used for the label (the Polyak average for SGD, the last iterate for
        exact descent).
    minimizers : tuple of tuple of float
        ``((mu, sigma) of the local minimum, (mu, sigma) of the global minimum)``.
    estimator : str

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import basin_map
    >>> result = basin_map("exact", torch.tensor([0.0, 2.0]), torch.tensor([1.0, 2.5]), num_steps=2000)
    >>> [(round(m, 3), round(s, 3)) for m, s in result.minimizers]  # (local, global)
    [(0.442, 0.606), (1.367, 1.962)]
    """

    mu: torch.Tensor
    sigma: torch.Tensor
    label: torch.Tensor
    end_mu: torch.Tensor
    end_sigma: torch.Tensor
    minimizers: tuple[tuple[float, float], tuple[float, float]]
    estimator: str

    def fraction(self, label: int) -> float:
        """Share of the grid's starts with this label."""
        return float((self.label == label).double().mean())


def _minimizers() -> tuple[tuple[float, float], tuple[float, float]]:
    minima = sorted((p for p in stationary_points() if p.kind == "minimum"), key=lambda p: -p.value)
    if len(minima) != 2:
        raise RuntimeError(f"expected the two minima of J, found {len(minima)}")
    return tuple((p.mu, p.sigma) for p in minima)  # type: ignore[return-value]


def basin_map(
    estimator: str,
    mu: torch.Tensor,
    sigma: torch.Tensor,
    *,
    lr: float = 0.1,
    num_steps: int = 400,
    num_samples: int = 32,
    baseline: Baseline = "loo",
    average_from: int | None = None,
    tol: float = 0.1,
    seed: int = 0,
) -> BasinMap:
    r"""Run step (6) from every start $(\mu_0, \sigma_0)$ of the grid at once and label where it ends.

    Every start follows $(\mu,\tau)_{k+1} = (\mu,\tau)_k - \eta\,\hat g_k$ with $\sigma = e^\tau$ and
    $\hat g_k$ from [`descent_direction`][dnnf.estimators.descent_direction] (independent draws for every
    start). With ``estimator='exact'`` this is gradient descent, the discrete version of the gradient flow
    whose basins define which minimum "belongs" to a start; with ``'score'`` or ``'pathwise'`` it is SGD, and
    the end point is the Polyak average of the iterates from step ``average_from`` (default ``num_steps //
    2``), and the start is credited to the basin (of exact descent) in which that average lies. A start is
    labelled by the minimiser within ``tol`` (Euclidean, in $(\mu, \sigma)$) of where exact descent ends.

    Parameters
    ----------
    estimator : {'exact', 'score', 'pathwise'}
    mu, sigma : Tensor
        1-D grids of starting $\mu_0$ and $\sigma_0 > 0$.
    lr, num_steps, num_samples, baseline
        As in [`optimize_gaussian_objective`][dnnf.estimators.optimize_gaussian_objective].
    average_from : int or None
        First averaged step for SGD.
    tol : float
        Labelling radius.
    seed : int
        Seed of the draws (a private generator state: the global one is restored afterwards).

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import basin_map
    >>> result = basin_map("exact", torch.tensor([0.0, 2.0]), torch.tensor([1.0, 2.5]), num_steps=2000)
    >>> result.label.tolist()  # rows: sigma_0, columns: mu_0; 0 = local minimum, 1 = global
    [[0, 1], [1, 1]]
    """
    if estimator not in ("score", "pathwise", "exact"):
        raise ValueError(f"estimator must be 'score', 'pathwise' or 'exact', got {estimator!r}")
    for name, grid in (("mu", mu), ("sigma", sigma)):
        if not torch.is_tensor(grid) or grid.dim() != 1 or grid.numel() < 1:
            raise ValueError(f"{name} must be a non-empty 1-D tensor of starting values")
    _as_params(mu, torch.ones(()))
    _as_params(torch.zeros(()), sigma)
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a positive integer, got {num_steps!r}")
    start = num_steps // 2 if average_from is None else average_from
    if estimator != "exact" and (
        isinstance(start, bool) or not isinstance(start, int) or not 0 <= start < num_steps
    ):
        raise ValueError(f"average_from must be an integer in [0, {num_steps - 1}], got {average_from!r}")
    if not float(lr) > 0 or not float(tol) > 0:
        raise ValueError(f"lr and tol must be positive, got lr={lr!r}, tol={tol!r}")
    s_grid, m_grid = torch.meshgrid(sigma.double(), mu.double(), indexing="ij")
    x_mu, x_tau = m_grid.clone(), s_grid.log()
    total_mu, total_sigma = torch.zeros_like(x_mu), torch.zeros_like(x_mu)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for k in range(num_steps):
            g_mu, g_tau = descent_direction(estimator, x_mu, x_tau, num_samples, baseline)
            with torch.no_grad():
                x_mu = (x_mu - lr * g_mu).nan_to_num(nan=1e6).clamp(-1e6, 1e6)
                # keep sigma in (e^-30, e^5): a start thrown out of the region stays out and is labelled -1
                x_tau = (x_tau - lr * g_tau).nan_to_num(nan=5.0).clamp(-30.0, 5.0)
            if k + 1 > start:
                total_mu += x_mu
                total_sigma += x_tau.exp()
    if estimator == "exact":
        end_mu, end_sigma = x_mu, x_tau.exp()
    else:
        end_mu, end_sigma = total_mu / (num_steps - start), total_sigma / (num_steps - start)
        # SGD's end point is noisy; the basin it lies in is where exact descent from it converges
        x_mu, x_tau = end_mu.clone(), end_sigma.log()
        for _ in range(_POLISH_STEPS):
            g_mu, g_tau = descent_direction("exact", x_mu, x_tau, num_samples, baseline)
            x_mu = (x_mu - lr * g_mu).nan_to_num(nan=1e6).clamp(-1e6, 1e6)
            x_tau = (x_tau - lr * g_tau).nan_to_num(nan=5.0).clamp(-30.0, 5.0)
    minimizers = _minimizers()
    label = torch.full_like(end_mu, -1, dtype=torch.int64)
    for index, (m_star, s_star) in enumerate(minimizers):
        label[torch.hypot(x_mu - m_star, x_tau.exp() - s_star) < tol] = index
    return BasinMap(mu.double(), sigma.double(), label, end_mu, end_sigma, minimizers, estimator)
