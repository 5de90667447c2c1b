r"""The result of a rare-event estimate: value, standard error, interval and a meaningful sample size."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from dnnf._validation import check_int, check_probability

__all__ = ["RareEventEstimate", "estimate_from_log_weights", "weight_ess"]


@dataclass(frozen=True)
class RareEventEstimate:
    r"""Importance-sampling estimate $\hat P = \frac1n \sum_i Y_i$ with $Y_i = w_i \mathbf 1_A(X^{(i)})$.

    Why this ESS: [Error bars][error-bars-and-an-effective-sample-size-that-means-something].

    Attributes
    ----------
    estimate : float
        $\hat P$.
    std_error : float
        $\hat\sigma/\sqrt n$ with $\hat\sigma^2$ the sample variance of the $Y_i$ (failed paths count
        as $Y_i = 0$).
    num_paths : int
        Number of simulated paths $n$.
    num_hits : int
        Paths that reached the goal in time.
    effective_sample_size : float
        $(\sum_i Y_i)^2 / \sum_i Y_i^2$: the Kish formula applied to the *integrand* $Y_i$, not to the
        weights $w_i$. It equals the number of hits for plain Monte Carlo, $n$ for the zero-variance
        proposal, and satisfies $\hat\sigma^2/(n\hat P^2) = (1/\mathrm{ESS} - 1/n)\,\frac{n}{n-1}$
        (with $\hat\sigma^2$ the unbiased sample variance; page *Rare events*, eq. (13)).

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, horizon_tilt, importance_sampling
    >>> problem = GamblersRuin(0.4, 3, 10, horizon=50)
    >>> result = importance_sampling(problem, horizon_tilt(problem), 20_000, seed=0)
    >>> low, high = result.confidence_interval(0.95)
    >>> result.num_paths, result.num_hits, f"{low:.4f} {high:.4f}"
    (20000, 13322, '0.0386 0.0394')
    """

    estimate: float
    std_error: float
    num_paths: int
    num_hits: int
    effective_sample_size: float

    @property
    def relative_error(self) -> float:
        r"""$\mathrm{SE}/\hat P$ (``inf`` when nothing was hit)."""
        return self.std_error / self.estimate if self.estimate > 0 else math.inf

    @property
    def relative_variance(self) -> float:
        r"""Estimated relative variance per path $n\,(\mathrm{SE}/\hat P)^2$."""
        return self.num_paths * self.relative_error**2

    def confidence_interval(self, level: float = 0.95) -> tuple[float, float]:
        r"""Normal-approximation interval $\hat P \pm z_{(1+\ell)/2}\,\mathrm{SE}$.

        With no hits it is $[0, 0]$ and says nothing: the estimator has not seen the event. For plain
        Monte Carlo use the exact interval ``clopper_pearson(num_hits, num_paths)`` (and ``rule_of_three``).
        """
        level = check_probability("level", level)
        z = NormalDist().inv_cdf(0.5 + level / 2)
        return self.estimate - z * self.std_error, self.estimate + z * self.std_error

    def __str__(self) -> str:
        rel = "rel. err. n/a" if self.num_hits == 0 else f"rel. err. {self.relative_error:.2%}"
        return (
            f"{self.estimate:.6g} ± {self.std_error:.2g} ({rel}, "
            f"{self.num_hits}/{self.num_paths} hits, ESS {self.effective_sample_size:.4g})"
        )


def _log_weight_array(log_weights: object) -> np.ndarray:
    """``log_weights`` as a finite 1-D float64 array (a NaN or inf log-weight would make every sum NaN)."""
    try:
        lw = np.asarray(log_weights, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"log_weights must be a 1-D array of real numbers ({err})") from err
    if lw.ndim != 1:
        raise ValueError(f"log_weights must be a 1-D array, got shape {lw.shape}")
    if not np.isfinite(lw).all():
        raise ValueError("log_weights must be finite (no NaN or inf entries)")
    return lw


def estimate_from_log_weights(log_weights: np.ndarray, num_paths: int) -> RareEventEstimate:
    r"""Build the estimate from the log-likelihood ratios $\log w_i$ of the paths that hit.

    Sums are taken after shifting by $M = \max_i \log w_i$, so $w_i$ far below the float range
    (long paths, strong tilts) neither underflow nor lose the relative sizes that the variance needs.

    Examples
    --------
    Two hits of weight 1/2 and 1/4 among 4 paths: $\hat P = (0.5 + 0.25)/4$:

    >>> import numpy as np
    >>> from dnnf.rare_events import estimate_from_log_weights
    >>> result = estimate_from_log_weights(np.log([0.5, 0.25]), num_paths=4)
    >>> result.estimate, result.num_hits, round(result.effective_sample_size, 2)
    (0.1875, 2, 1.8)
    """
    num_paths = check_int("num_paths", num_paths, minimum=2)
    lw = _log_weight_array(log_weights)
    if lw.size > num_paths:
        raise ValueError(f"log_weights must have at most num_paths = {num_paths} entries, got {lw.size}")
    if lw.size == 0:
        return RareEventEstimate(0.0, 0.0, int(num_paths), 0, 0.0)
    shift = float(lw.max())
    y = np.exp(lw - shift)
    s1, s2 = float(y.sum()), float(np.dot(y, y))
    scale = math.exp(shift)
    mean = scale * s1 / num_paths
    # sample variance of Y (zeros included) = (s2 - s1^2/n) / (n - 1), in units of scale^2
    var = max(s2 - s1 * s1 / num_paths, 0.0) / (num_paths - 1)
    return RareEventEstimate(
        estimate=mean,
        std_error=scale * math.sqrt(var / num_paths),
        num_paths=int(num_paths),
        num_hits=int(lw.size),
        effective_sample_size=s1 * s1 / s2,
    )


def weight_ess(log_weights: np.ndarray) -> float:
    r"""Kish's effective sample size of the *weights* of all paths, $(\sum_i w_i)^2 / \sum_i w_i^2$.

    Provided to show why it is the wrong diagnostic for a rare event: it ignores whether a path hit
    (plain Monte Carlo has $w_i \equiv 1$ and scores $n$ with zero hits), and it is dragged down by the
    weights of failed paths that never enter the estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from dnnf.rare_events import weight_ess
    >>> weight_ess(np.zeros(4)), round(weight_ess(np.log([1.0, 1e-4, 1e-4, 1e-4])), 3)
    (4.0, 1.001)
    """
    lw = _log_weight_array(log_weights)
    if lw.size == 0:
        raise ValueError("log_weights must be a non-empty 1-D array")
    y = np.exp(lw - lw.max())
    return float(y.sum() ** 2 / np.dot(y, y))
