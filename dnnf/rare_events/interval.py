r"""Exact binomial intervals for plain Monte Carlo: Clopper–Pearson and the rule of three.

Plain Monte Carlo counts $K \sim \mathrm{Bin}(n, P)$ hits. The normal interval $\hat P \pm 1.96\,\mathrm{SE}$
collapses to $[0, 0]$ when $K = 0$; the exact interval inverts the binomial tail probabilities instead
and stays honest for any $K$. Only ``math`` and numpy are used (no scipy at run time).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from dnnf._validation import check_int

__all__ = ["clopper_pearson", "rule_of_three"]

_BISECTION_STEPS = 200  # halves [0, 1] down to 2^-200: full relative precision for any p above 1e-44


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be a number strictly between 0 and 1, got {level!r}")
    return float(level)


def _check_counts(hits: int, n: int) -> tuple[int, int]:
    hits, n = check_int("hits", hits, minimum=0), check_int("n", n, minimum=1)
    if n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n}")
    if not 0 <= hits <= n:
        raise ValueError(f"hits must be an integer in [0, n] = [0, {n}], got {hits}")
    return int(hits), int(n)


def _binomial_cdf(log_comb: np.ndarray, n: int, p: float) -> float:
    r"""$P(\mathrm{Bin}(n, p) \le k)$ with $k = $ ``len(log_comb) - 1``, summed in log space."""
    j = np.arange(log_comb.size)
    log_pmf = log_comb + j * math.log(p) + (n - j) * math.log1p(-p)
    top = float(log_pmf.max())
    return min(1.0, math.exp(top) * float(np.exp(log_pmf - top).sum()))


def _solve_cdf(k: int, n: int, target: float) -> float:
    r"""The $p$ with $P(\mathrm{Bin}(n, p) \le k) = $ ``target`` ($0 \le k < n$), by bisection.

    The binomial CDF decreases strictly in $p$ (its derivative is $-n\binom{n-1}{k}p^k(1-p)^{n-1-k}$).
    """
    j = np.arange(1, k + 1)
    log_comb = np.concatenate([[0.0], np.cumsum(np.log((n - j + 1) / j))])
    lo, hi = 0.0, 1.0
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if _binomial_cdf(log_comb, n, mid) > target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def clopper_pearson(hits: int, n: int, level: float = 0.95) -> tuple[float, float]:
    r"""Exact (Clopper–Pearson) interval for a binomial proportion from ``hits`` successes in ``n`` trials.

    With $\alpha = 1 - \ell$ the bounds solve

    $$P(\mathrm{Bin}(n, P_U) \le K) = \tfrac\alpha2, \qquad P(\mathrm{Bin}(n, P_L) \ge K) = \tfrac\alpha2,$$

    with $P_L = 0$ when $K = 0$ and $P_U = 1$ when $K = n$; in closed form at the ends,
    $P_U = 1 - (\alpha/2)^{1/n}$ for $K = 0$ and $P_L = (\alpha/2)^{1/n}$ for $K = n$. Coverage is at least
    $\ell$ for every $P$ (each tail misses with probability at most $\alpha/2$). The general case is
    solved by bisection on the binomial CDF (monotone in $P$), $O(K)$ work per step; the two bounds
    equal the beta quantiles $B^{-1}(\alpha/2; K, n-K+1)$ and $B^{-1}(1-\alpha/2; K+1, n-K)$.

    Parameters
    ----------
    hits : int
        Number of successes $K$, $0 \le K \le n$ (for plain Monte Carlo: ``RareEventEstimate.num_hits``).
    n : int
        Number of trials $n \ge 1$.
    level : float
        Confidence level $\ell \in (0, 1)$.

    Examples
    --------
    >>> from dnnf.rare_events import clopper_pearson
    >>> [round(v, 4) for v in clopper_pearson(5, 100)], [round(v, 4) for v in clopper_pearson(0, 100)]
    ([0.0164, 0.1128], [0.0, 0.0362])
    """
    hits, n = _check_counts(hits, n)
    level = _check_level(level)
    half = (1.0 - level) / 2.0
    if hits == 0:
        lower = 0.0
    elif hits == n:
        lower = math.exp(math.log(half) / n)
    else:  # P(Bin >= K) = half  <=>  P(Bin <= K - 1) = 1 - half
        lower = _solve_cdf(hits - 1, n, 1.0 - half)
    if hits == n:
        upper = 1.0
    elif hits == 0:
        upper = -math.expm1(math.log(half) / n)
    else:
        upper = _solve_cdf(hits, n, half)
    return lower, upper


def rule_of_three(n: int, level: float = 0.95) -> float:
    r"""One-sided upper confidence bound for $P$ after $n$ trials with no hit: $1 - (1-\ell)^{1/n}$.

    It solves $(1 - P_U)^n = 1 - \ell$. Since $-\log(1 - P) \ge P$, $P_U \le -\log(1-\ell)/n$, which is
    $2.996/n \approx 3/n$ at $\ell = 0.95$: the "rule of three".

    Examples
    --------
    >>> from dnnf.rare_events import rule_of_three
    >>> round(rule_of_three(1000), 6)  # about 3 / n
    0.002991
    """
    _, n = _check_counts(0, n)
    level = _check_level(level)
    return -math.expm1(math.log1p(-level) / n)
