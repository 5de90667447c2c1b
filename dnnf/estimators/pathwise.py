r"""The pathwise (reparameterization) estimator of $\nabla_\phi \mathbb{E}_{Z\sim q_\phi}[f(Z)]$.

When $Z = T_\phi(\varepsilon)$ with $\varepsilon \sim p$ free of $\phi$ (``rsample`` in torch), and $f$ is
differentiable,

$$
\nabla_\phi \mathbb{E}_{q_\phi}[f(Z)]
= \mathbb{E}_{\varepsilon\sim p}\big[\nabla_\phi f(T_\phi(\varepsilon))\big]
= \mathbb{E}_{\varepsilon}\big[(\partial_\phi T_\phi(\varepsilon))^\top \nabla f(T_\phi(\varepsilon))\big].
$$

For $q = \mathcal{N}(\mu, \sigma^2)$, $T(\varepsilon) = \mu + \sigma\varepsilon$. Derivation:
[The pathwise (reparameterization) estimator][the-pathwise-reparameterization-estimator].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch.distributions import Distribution

from dnnf._validation import check_distribution, check_num_samples, evaluate_f

__all__ = ["pathwise_gradient", "pathwise_surrogate"]


def pathwise_surrogate(
    f: Callable[[torch.Tensor], torch.Tensor], dist: Distribution, num_samples: int
) -> torch.Tensor:
    r"""Monte Carlo estimate $\frac1n\sum_i f(T_\phi(\varepsilon_i))$, differentiable in $\phi$ (``rsample``).

    Parameters
    ----------
    f : callable
        Differentiable; maps draws of shape ``(num_samples, *dist.batch_shape, *dist.event_shape)`` to values
        of shape ``(num_samples, *dist.batch_shape)``.
    dist : torch.distributions.Distribution
        $q_\phi$ with ``has_rsample`` true (Normal, MultivariateNormal, LogNormal, Gamma, ...).
    num_samples : int
        Number of draws $n \geq 1$.

    Returns
    -------
    torch.Tensor
        Shape ``dist.batch_shape``; its gradient is the pathwise estimator.

    Raises
    ------
    TypeError
        If ``dist`` has no reparameterized sampler (e.g. Bernoulli, Categorical): use the score-function
        estimator there.

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import pathwise_surrogate
    >>> _ = torch.manual_seed(0)
    >>> mu = torch.tensor(0.5, requires_grad=True)
    >>> loss = pathwise_surrogate(lambda z: z**2, torch.distributions.Normal(mu, 1.0), 10_000)
    >>> loss.backward()
    >>> round(float(mu.grad), 1)  # exact: 2 mu = 1
    1.0
    """
    dist = check_distribution(dist)
    if not dist.has_rsample:
        raise TypeError(
            f"dist must support rsample for the pathwise estimator; {type(dist).__name__} does not "
            "(use score_function_surrogate for it)"
        )
    n = check_num_samples(num_samples)
    return evaluate_f(f, dist.rsample((n,)), dist).mean(dim=0)


def pathwise_gradient(
    f: Callable[[torch.Tensor], torch.Tensor],
    dist: Distribution,
    params: Sequence[torch.Tensor],
    num_samples: int,
) -> tuple[torch.Tensor, ...]:
    r"""Pathwise estimate of $\nabla_\phi \mathbb{E}_{q_\phi}[f(Z)]$ for each tensor of ``params``.

    The gradient of [`pathwise_surrogate`][dnnf.estimators.pathwise_surrogate] (summed over the batch).

    Returns
    -------
    tuple of torch.Tensor
        One gradient estimate per parameter, same shapes as ``params``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import pathwise_gradient
    >>> _ = torch.manual_seed(0)
    >>> mu = torch.tensor(0.5, requires_grad=True)
    >>> (g,) = pathwise_gradient(lambda z: z**2, torch.distributions.Normal(mu, 1.0), [mu], 10_000)
    >>> round(float(g), 1)
    1.0
    """
    params = tuple(params)
    surrogate = pathwise_surrogate(f, dist, num_samples)
    return torch.autograd.grad(surrogate.sum(), params, allow_unused=True, materialize_grads=True)
