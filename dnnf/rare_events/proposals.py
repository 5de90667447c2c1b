r"""Proposal coins for importance sampling of the gambler's ruin.

A proposal chooses the win probability $q$ of the next games from the current balance $x$ and the
number of games left $t$. Proposals with a finite set of ``levels`` let the simulator jump over up to
``max_leap`` games at once with one exact binomial draw; the zero-variance proposal changes $q$ after
every game (``max_leap = 1``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from dnnf._validation import check_int, check_probability
from dnnf.rare_events.exact import success_table
from dnnf.rare_events.problem import GamblersRuin

__all__ = ["Proposal", "FixedTilt", "BridgeTilt", "ZeroVarianceTilt", "swapped_tilt", "horizon_tilt"]

# The alias tables hold 16 bytes per (level, b, k): refuse a max_leap whose tables exceed 1 GiB instead
# of failing (or swapping) while building them.
_TABLE_BYTES = 2**30
_MAX_LEVELS = 2**16


def _check_leap(max_leap: object, n_levels: int) -> int:
    leap = check_int("max_leap", max_leap, minimum=1)
    if n_levels * (leap + 1) ** 2 * 16 > _TABLE_BYTES:
        largest = int((_TABLE_BYTES / (16 * n_levels)) ** 0.5) - 1
        raise ValueError(
            f"max_leap must be an integer between 1 and {largest} for {n_levels} coin level(s) "
            f"(its binomial tables would exceed 1 GiB), got {leap}"
        )
    return leap


def _check_problem(problem: object) -> None:
    if not isinstance(problem, GamblersRuin):
        raise TypeError(f"problem must be a GamblersRuin, got {type(problem).__name__}")


_DEFAULT_LEAP = 64  # binomial tables are (levels, leap+1, leap+1): 64 keeps them small and fast to build


@runtime_checkable
class Proposal(Protocol):
    r"""What the simulator needs from a proposal coin (a structural type: any class with these members).

    Attributes
    ----------
    max_leap : int
        Most games a path may play at once with one binomial draw ($\ge 1$).
    levels : numpy.ndarray or None
        The increasing win probabilities that ``choose`` can return, so that the simulator can
        tabulate one binomial sampler per level and leap (with a single level ``choose`` is not called);
        ``None`` when ``choose`` returns arbitrary probabilities, which needs ``max_leap = 1`` (one game at
        a time).

    Examples
    --------
    Every proposal of this module is one; ``choose`` gives the win probability of each path's next games:

    >>> import numpy as np
    >>> from dnnf.rare_events import BridgeTilt, FixedTilt, GamblersRuin, Proposal, ZeroVarianceTilt
    >>> problem = GamblersRuin(0.4, 3, 10, horizon=50)
    >>> all(isinstance(c, Proposal) for c in (FixedTilt(0.6), BridgeTilt(problem), ZeroVarianceTilt(problem)))
    True
    >>> BridgeTilt(problem).choose(np.array([3, 9]), np.array([50.0, 1.0])).tolist()
    [0.6, 1.0]
    """

    max_leap: int
    levels: np.ndarray | None

    def choose(self, balance: np.ndarray, games_left: np.ndarray) -> np.ndarray:
        r"""The win probability $q \in (0, 1]$ of each path's next games (``games_left`` may be ``inf``)."""
        ...


class FixedTilt:
    r"""The same coin $q$ for every game; the likelihood ratio of a path with $W$ wins, $L$ losses is

    $$w = \Big(\frac pq\Big)^{W} \Big(\frac{1-p}{1-q}\Big)^{L}.$$

    ``FixedTilt(p)`` is plain Monte Carlo.

    Examples
    --------
    >>> import numpy as np
    >>> from dnnf.rare_events import FixedTilt
    >>> FixedTilt(0.6).choose(np.array([3, 4]), np.array([10.0, 9.0])).tolist()
    [0.6, 0.6]
    """

    def __init__(self, q: float, max_leap: int = _DEFAULT_LEAP) -> None:
        self.q = check_probability("q", q)
        self.levels = np.array([self.q])
        self.max_leap = _check_leap(max_leap, len(self.levels))

    def choose(self, balance: np.ndarray, games_left: np.ndarray) -> np.ndarray:
        """$q$ for each path."""
        return np.full(balance.shape, self.q)

    def __repr__(self) -> str:
        return f"FixedTilt(q={self.q:.6g})"


def swapped_tilt(problem: GamblersRuin) -> FixedTilt:
    r"""The classical swap $q = 1 - p$: for $T = \infty$ its likelihood ratio on success is the constant
    $(p/(1-p))^{N-s}$, so the relative error stays bounded as the event gets rarer.

    Derivation: [The swapped coin, without and with a horizon][the-swapped-coin-without-and-with-a-horizon].

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, swapped_tilt
    >>> swapped_tilt(GamblersRuin(0.4, 3, 10))
    FixedTilt(q=0.6)
    """
    _check_problem(problem)
    return FixedTilt(1.0 - problem.p)


def horizon_tilt(problem: GamblersRuin) -> FixedTilt:
    r"""The fixed tilt for a finite horizon: make the goal reachable *on average* in $T$ games,

    $$T(2q - 1) = N - s \iff q_T = \frac12\Big(1 + \frac{N-s}{T}\Big),$$

    the exponential tilt that centres $X_T$ on the goal (large deviations; see the chapter), and never
    below the infinite-horizon choice $\max(p, 1-p)$. Needs $T > N - s$.

    Derivation: [A fixed tilt for the horizon][a-fixed-tilt-for-the-horizon].

    Examples
    --------
    With $T = 10$ games to cover $N - s = 7$: $q_T = (1 + 7/10)/2 = 0.85$:

    >>> from dnnf.rare_events import GamblersRuin, horizon_tilt
    >>> horizon_tilt(GamblersRuin(0.4, 3, 10, horizon=10))
    FixedTilt(q=0.85)
    """
    _check_problem(problem)
    if problem.horizon is None:
        return swapped_tilt(problem)
    if problem.horizon <= problem.distance:
        raise ValueError(
            f"horizon_tilt needs horizon > goal - start = {problem.distance}, got {problem.horizon}"
        )
    q = 0.5 * (1.0 + problem.distance / problem.horizon)
    return FixedTilt(max(q, problem.p, 1.0 - problem.p))


class BridgeTilt:
    r"""State-dependent tilt that needs no DP: aim for the goal in the games that are left,

    $$q(x, t) = \max\Big(q_\infty,\ \tfrac12\big(1 + \tfrac{N-x}{t}\big)\Big)$$

    rounded *down* to a grid of step ``1/resolution`` (so that $q = 1$ only when $N - x = t$, where a
    single loss makes success impossible and the proposal may ignore it). With $t = \infty$ it is the
    swap $q_\infty = \max(p, 1-p)$. It is re-evaluated at the start of every leap of at most
    ``max_leap`` games.

    Derivation: [A state-dependent tilt that needs no DP][a-state-dependent-tilt-that-needs-no-dp].

    Examples
    --------
    >>> import numpy as np
    >>> from dnnf.rare_events import BridgeTilt, GamblersRuin
    >>> tilt = BridgeTilt(GamblersRuin(0.4, 3, 10, horizon=50))
    >>> tilt.choose(np.array([3, 7, 9]), np.array([50.0, 4.0, 1.0])).tolist()  # far, tight, one step left
    [0.6, 0.875, 1.0]
    """

    def __init__(self, problem: GamblersRuin, resolution: int = 256, max_leap: int = _DEFAULT_LEAP) -> None:
        _check_problem(problem)
        resolution = check_int("resolution", resolution, minimum=2, maximum=_MAX_LEVELS)
        self.problem = problem
        self.goal = problem.goal
        self.resolution = resolution
        self.max_leap = _check_leap(max_leap, resolution)
        self.base = max(problem.p, 1.0 - problem.p)
        # grid points strictly above the base; index 0 is the base itself
        self._first = int(np.floor(self.base * resolution)) + 1
        grid = np.arange(self._first, resolution + 1) / resolution
        self.levels = np.concatenate([[self.base], grid])

    def choose(self, balance: np.ndarray, games_left: np.ndarray) -> np.ndarray:
        """$q(x, t)$ for each path, one of ``levels`` (``games_left`` may be ``inf``)."""
        target = 0.5 * (1.0 + (self.goal - balance) / np.maximum(games_left, 1))
        j = np.floor(target * self.resolution + 1e-9).astype(np.intp)  # 1e-9: exact grid hits stay put
        return self.levels[np.where(j >= self._first, j - self._first + 1, 0)]

    def __repr__(self) -> str:
        return f"BridgeTilt(resolution={self.resolution}, max_leap={self.max_leap})"


class ZeroVarianceTilt:
    r"""The optimal proposal, built from the exact answer $u$: $q^*(x, t) = p\,u_{t-1}(x+1)/u_t(x)$.

    Under it every path succeeds and the likelihood ratio telescopes to $u_T(s)$, so every path returns
    the exact answer. It needs the DP table (or the closed form $h(x)$ when $T = \infty$, where
    $q^*(x) = p\,h(x+1)/h(x)$): it shows where the limit is, not a practical method.

    Derivation: [The zero-variance proposal][the-zero-variance-proposal].

    Examples
    --------
    Every path returns the exact answer, so the standard error is 0:

    >>> from dnnf.rare_events import GamblersRuin, ZeroVarianceTilt, exact_probability, importance_sampling
    >>> problem = GamblersRuin(0.4, 3, 10, horizon=50)
    >>> result = importance_sampling(problem, ZeroVarianceTilt(problem), 100, seed=0)
    >>> abs(result.estimate - exact_probability(problem)) < 1e-12, result.std_error < 1e-12
    (True, True)
    """

    max_leap = 1
    levels = None

    def __init__(self, problem: GamblersRuin) -> None:
        _check_problem(problem)
        self.problem = problem
        p, n = problem.p, problem.goal
        if problem.horizon is None:
            x = np.arange(n + 1, dtype=np.float64)
            if p == 0.5:
                h = x / n
            else:
                log_r = np.log1p(-p) - np.log(p)
                h = np.expm1(x * log_r) / np.expm1(n * log_r)
            self._u = h[None, :]
        else:
            self._u = success_table(problem)
        self.p = p
        self.finite = problem.horizon is not None

    def choose(self, balance: np.ndarray, games_left: np.ndarray) -> np.ndarray:
        """$q^*$ for each path (only called on states with $u_t(x) > 0$)."""
        if self.finite:
            t = games_left.astype(np.intp)
            return self.p * self._u[t - 1, balance + 1] / self._u[t, balance]
        return self.p * self._u[0, balance + 1] / self._u[0, balance]

    def __repr__(self) -> str:
        return "ZeroVarianceTilt()"
