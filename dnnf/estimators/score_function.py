r"""The score-function (log-derivative, REINFORCE) estimator of $\nabla_\phi \mathbb{E}_{Z\sim q_\phi}[f(Z)]$.

Under the regularity conditions of the chapter (differentiation under the integral sign),

$$
\nabla_\phi \mathbb{E}_{q_\phi}[f(Z)] = \mathbb{E}_{q_\phi}\big[(f(Z) - b)\,\nabla_\phi \log q_\phi(Z)\big],
$$

for any baseline $b$ that does not depend on $Z$. It only needs $\log q_\phi$ and samples, so it works for
discrete distributions too. Derivation: [The score-function estimator][the-score-function-estimator].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.distributions import Distribution

from dnnf._validation import check_distribution, check_finite, check_num_samples, evaluate_f

__all__ = ["leave_one_out_baseline", "score_function_gradient", "score_function_surrogate"]

Baseline = str | float | torch.Tensor | None


def leave_one_out_baseline(values: torch.Tensor) -> torch.Tensor:
    r"""Leave-one-out baseline $b_i = \frac{1}{n-1}\sum_{j\neq i} f(z_j)$ along dimension 0.

    $b_i$ is independent of $z_i$, so subtracting it keeps the estimator unbiased; the resulting estimator
    equals $\frac{n}{n-1}\cdot\frac1n\sum_i (f(z_i)-\bar f)\,\nabla_\phi\log q_\phi(z_i)$.

    Parameters
    ----------
    values : torch.Tensor
        Shape ``(n, ...)`` with ``n >= 2``: one function value per draw.

    Returns
    -------
    torch.Tensor
        The baselines, same shape as ``values``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import leave_one_out_baseline
    >>> leave_one_out_baseline(torch.tensor([1.0, 2.0, 3.0])).tolist()
    [2.5, 2.0, 1.5]
    """
    if not torch.is_tensor(values) or values.dim() == 0 or values.shape[0] < 2:
        raise ValueError("values must be a tensor of shape (n, ...) with n >= 2 for a leave-one-out baseline")
    check_finite("values", values)
    n = values.shape[0]
    return (values.sum(dim=0, keepdim=True) - values) / (n - 1)


def _check_baseline(baseline: object) -> None:
    """Raise unless ``baseline`` is ``'loo'``, ``None``, a number or a tensor."""
    if isinstance(baseline, str):
        if baseline != "loo":
            raise ValueError(f"baseline must be 'loo', None, a float or a tensor, got {baseline!r}")
    elif baseline is not None and (
        isinstance(baseline, bool) or not isinstance(baseline, float | int | torch.Tensor)
    ):
        raise TypeError(f"baseline must be 'loo', None, a float or a tensor, got {type(baseline).__name__}")


def _baseline_values(baseline: Baseline, values: torch.Tensor) -> torch.Tensor:
    """Return the baseline for each draw (detached: it must not carry gradient)."""
    if baseline is None:
        return torch.zeros_like(values)
    if isinstance(baseline, str):
        return leave_one_out_baseline(values.detach())
    b = torch.as_tensor(baseline, dtype=values.dtype, device=values.device).detach()
    try:
        return torch.broadcast_to(b, values.shape)
    except RuntimeError as err:
        raise ValueError(
            f"baseline tensor of shape {tuple(b.shape)} does not broadcast to the values' shape "
            f"{tuple(values.shape)}"
        ) from err


def score_function_surrogate(
    f: Callable[[torch.Tensor], torch.Tensor],
    dist: Distribution,
    num_samples: int,
    *,
    baseline: Baseline = "loo",
) -> torch.Tensor:
    r"""Surrogate loss: value estimates $\mathbb{E}_{q_\phi}[f(Z)]$, gradient is the score-function estimate.

    With draws $z_1,\dots,z_n \sim q_\phi$ (not differentiated) and baselines $b_i$, the surrogate is

    $$
    L(\phi) = \frac1n\sum_{i=1}^n \Big[f_\phi(z_i) + \operatorname{sg}\big(f_\phi(z_i) - b_i\big)
    \big(\log q_\phi(z_i) - \operatorname{sg}(\log q_\phi(z_i))\big)\Big],
    $$

    where $\operatorname{sg}$ stops the gradient. Its value is $\frac1n\sum_i f(z_i)$ and its gradient is

    $$
    \nabla_\phi L = \frac1n\sum_{i=1}^n \big(f(z_i) - b_i\big)\nabla_\phi \log q_\phi(z_i)
    + \frac1n\sum_{i=1}^n \nabla_\phi f_\phi(z_i).
    $$

    The second sum (the direct term) is zero unless $f$ depends on $\phi$, as in the log-ratio identity. Why
    this surrogate: [In code: surrogate losses][in-code-surrogate-losses].

    Parameters
    ----------
    f : callable
        Maps draws of shape ``(num_samples, *dist.batch_shape, *dist.event_shape)`` to values of shape
        ``(num_samples, *dist.batch_shape)``.
    dist : torch.distributions.Distribution
        $q_\phi$, built from tensors that require grad. Any distribution with ``sample`` and ``log_prob``.
    num_samples : int
        Number of draws $n$ (at least 2 with the leave-one-out baseline).
    baseline : {'loo'}, None, float or torch.Tensor
        ``'loo'`` (default): leave-one-out mean of the other draws' values; ``None``: no baseline; a float or
        a tensor broadcastable to ``(num_samples, *dist.batch_shape)``: a fixed control variate, which must
        not depend on the draws (otherwise the estimator is biased).

    Returns
    -------
    torch.Tensor
        Shape ``dist.batch_shape``: one surrogate per independent batch element (sum it before
        ``backward``).

    Examples
    --------
    $\nabla_\mu \mathbb{E}_{\mathcal{N}(\mu, 1)}[Z^2] = 2\mu$, here $1$:

    >>> import torch
    >>> from dnnf.estimators import score_function_surrogate
    >>> _ = torch.manual_seed(0)
    >>> mu = torch.tensor(0.5, requires_grad=True)
    >>> loss = score_function_surrogate(lambda z: z**2, torch.distributions.Normal(mu, 1.0), 10_000)
    >>> loss.backward()
    >>> round(loss.item(), 1), round(mu.grad.item(), 1)  # E[Z^2] = mu^2 + 1 = 1.25
    (1.2, 1.0)
    """
    dist = check_distribution(dist)
    _check_baseline(baseline)
    n = check_num_samples(num_samples, minimum=2 if isinstance(baseline, str) else 1)
    with torch.no_grad():
        z = dist.sample((n,))
    values = evaluate_f(f, z, dist)
    log_q = dist.log_prob(z)
    advantage = (values - _baseline_values(baseline, values)).detach()
    return (values + advantage * (log_q - log_q.detach())).mean(dim=0)


def score_function_gradient(
    f: Callable[[torch.Tensor], torch.Tensor],
    dist: Distribution,
    params: Sequence[torch.Tensor],
    num_samples: int,
    *,
    baseline: Baseline = "loo",
) -> tuple[torch.Tensor, ...]:
    r"""Score-function estimate of $\nabla_\phi \mathbb{E}_{q_\phi}[f(Z)]$ for each tensor of ``params``.

    The gradient of [`score_function_surrogate`][dnnf.estimators.score_function_surrogate] (summed over the
    batch), see there for the formula.

    Parameters
    ----------
    f, dist, num_samples, baseline
        As in [`score_function_surrogate`][dnnf.estimators.score_function_surrogate].
    params : sequence of torch.Tensor
        The tensors $\phi$ (requiring grad) that ``dist`` was built from.

    Returns
    -------
    tuple of torch.Tensor
        One gradient estimate per parameter, same shapes as ``params``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import score_function_gradient
    >>> _ = torch.manual_seed(0)
    >>> mu = torch.tensor(0.5, requires_grad=True)
    >>> (g,) = score_function_gradient(lambda z: z**2, torch.distributions.Normal(mu, 1.0), [mu], 10_000)
    >>> round(float(g), 1)  # exact: 2 mu = 1
    1.0
    """
    params = tuple(params)
    surrogate = score_function_surrogate(f, dist, num_samples, baseline=baseline)
    return torch.autograd.grad(surrogate.sum(), params, allow_unused=True, materialize_grads=True)
