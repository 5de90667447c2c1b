r"""Measure a gradient estimator: its mean, the mean's standard error, and its per-sample variance.

For an estimator $\hat g_n$ built from $n$ draws, the *per-sample variance* is
$v = n\,\mathrm{Var}[\hat g_n]$.
It compares estimators with different batch sizes on the same footing, $\mathrm{Var}[\hat g_n] = v/n$:
[Measuring an estimator: per-sample variance][measuring-an-estimator-per-sample-variance].
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch.distributions import Distribution

from dnnf._validation import check_int, check_num_samples

from .pathwise import pathwise_surrogate
from .score_function import Baseline, score_function_surrogate

__all__ = ["EstimatorStatistics", "estimator_statistics"]


@dataclass(frozen=True)
class EstimatorStatistics:
    r"""Replicate statistics of a gradient estimator, one tensor per parameter.

    Attributes
    ----------
    mean : tuple of torch.Tensor
        Average of the $R$ batch estimates (an estimate of the gradient from $nR$ draws).
    standard_error : tuple of torch.Tensor
        $s/\sqrt{R}$ with $s$ the sample standard deviation of the $R$ batch estimates.
    per_sample_variance : tuple of torch.Tensor
        $n s^2$, an unbiased estimate of $n\,\mathrm{Var}[\hat g_n]$.
    per_sample_variance_se : tuple of torch.Tensor
        Standard error of ``per_sample_variance``, $n\sqrt{(m_4 - m_2^2)/R}$ with $m_k$ the central moments of
        the $R$ batch estimates (no normality assumed).
    num_samples : int
        Draws per batch $n$.
    num_replicates : int
        Number of independent batches $R$.

    Examples
    --------
    >>> import torch
    >>> from dnnf.estimators import estimator_statistics
    >>> _ = torch.manual_seed(0)
    >>> def normal(mu):
    ...     return torch.distributions.Normal(mu, 1.0)
    >>> stats = estimator_statistics("pathwise", lambda z: z**2, normal, [torch.zeros(3)],
    ...                              num_samples=8, num_replicates=50)
    >>> stats.mean[0].shape, stats.num_samples, stats.num_replicates
    (torch.Size([3]), 8, 50)
    """

    mean: tuple[torch.Tensor, ...]
    standard_error: tuple[torch.Tensor, ...]
    per_sample_variance: tuple[torch.Tensor, ...]
    per_sample_variance_se: tuple[torch.Tensor, ...]
    num_samples: int
    num_replicates: int


def estimator_statistics(
    estimator: str,
    f: Callable[[torch.Tensor], torch.Tensor],
    make_dist: Callable[..., Distribution],
    params: Sequence[torch.Tensor],
    num_samples: int,
    num_replicates: int,
    *,
    baseline: Baseline = "loo",
) -> EstimatorStatistics:
    r"""Run $R$ independent batches of an estimator at once and summarise them.

    Every parameter is copied $R$ times along a new leading dimension, ``make_dist`` builds a distribution
    with batch shape ``(R, ...)`` from the copies, and one backward pass returns all $R$ batch estimates
    (batch element $r$ depends only on copy $r$).

    Parameters
    ----------
    estimator : {'score', 'pathwise'}
        Which estimator to measure.
    f : callable
        As in [`score_function_surrogate`][dnnf.estimators.score_function_surrogate]; it receives draws of
        shape ``(num_samples, num_replicates, *batch, *event)``.
    make_dist : callable
        ``make_dist(*params)`` returns $q_\phi$; it must broadcast a leading dimension of its arguments
        (true for elementwise parametrisations such as ``lambda mu, tau: Normal(mu, tau.exp())``).
    params : sequence of torch.Tensor
        The parameter values $\phi$ at which to measure (any shapes, e.g. a grid).
    num_samples : int
        Draws per batch $n$.
    num_replicates : int
        Independent batches $R \geq 2$.
    baseline : {'loo'}, None, float or torch.Tensor
        Passed to [`score_function_surrogate`][dnnf.estimators.score_function_surrogate] (ignored by the
        pathwise estimator).

    Returns
    -------
    EstimatorStatistics
        Mean, standard error and per-sample variance per parameter.

    Examples
    --------
    The per-sample variance of the pathwise estimator of $\nabla_\mu \mathbb{E}[Z^2]$ is
    $\mathrm{Var}[2Z] = 4$; the score-function estimator's is larger:

    >>> import torch
    >>> from dnnf.estimators import estimator_statistics
    >>> _ = torch.manual_seed(0)
    >>> def normal(mu):
    ...     return torch.distributions.Normal(mu, 1.0)
    >>> path = estimator_statistics("pathwise", lambda z: z**2, normal, [torch.tensor(0.5)], 16, 400)
    >>> score = estimator_statistics("score", lambda z: z**2, normal, [torch.tensor(0.5)], 16, 400)
    >>> round(float(path.mean[0]), 1), round(float(path.per_sample_variance[0]))
    (1.0, 4)
    >>> bool(score.per_sample_variance[0] > 2 * path.per_sample_variance[0])
    True
    """
    if estimator not in ("score", "pathwise"):
        raise ValueError(f"estimator must be 'score' or 'pathwise', got {estimator!r}")
    if not callable(make_dist):
        raise TypeError(f"make_dist must be callable, got {type(make_dist).__name__}")
    n = check_num_samples(num_samples)
    check_int("num_replicates", num_replicates, minimum=2)
    params = tuple(params)
    if not params or not all(torch.is_tensor(p) for p in params):
        raise TypeError("params must be a non-empty sequence of torch.Tensor")
    copies = [
        p.detach().unsqueeze(0).repeat(num_replicates, *([1] * p.dim())).requires_grad_() for p in params
    ]
    dist = make_dist(*copies)
    if estimator == "score":
        surrogate = score_function_surrogate(f, dist, n, baseline=baseline)
    else:
        surrogate = pathwise_surrogate(f, dist, n)
    grads = torch.autograd.grad(surrogate.sum(), copies, allow_unused=True, materialize_grads=True)
    means = tuple(g.mean(dim=0) for g in grads)
    variances = tuple(g.var(dim=0) for g in grads)
    centred = tuple(g - m for g, m in zip(grads, means, strict=True))
    moments = tuple(((c**2).mean(dim=0), (c**4).mean(dim=0)) for c in centred)
    return EstimatorStatistics(
        mean=means,
        standard_error=tuple((v / num_replicates).sqrt() for v in variances),
        per_sample_variance=tuple(n * v for v in variances),
        per_sample_variance_se=tuple(n * ((m4 - m2**2) / num_replicates).sqrt() for m2, m4 in moments),
        num_samples=n,
        num_replicates=num_replicates,
    )
