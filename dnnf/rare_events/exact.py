r"""Exact answers: the classical closed form ($T=\infty$) and dynamic programming (finite $T$)."""

from __future__ import annotations

import math

import numpy as np

from dnnf._validation import check_probability
from dnnf.rare_events.problem import GamblersRuin

__all__ = [
    "infinite_horizon_probability",
    "success_table",
    "exact_probability",
    "second_moment",
    "relative_variance",
    "horizon_weight_bound",
    "chernoff_bound",
    "expected_duration_given_success",
]


def infinite_horizon_probability(p: float, start: int, goal: int) -> float:
    r"""Classical gambler's-ruin probability of reaching ``goal`` before 0 with no game limit.

    With $r = (1-p)/p$ and $s$ = ``start``, $N$ = ``goal``,

    $$P_\infty = \frac{1 - r^{s}}{1 - r^{N}} \quad (r \ne 1), \qquad P_\infty = \frac{s}{N} \quad (r = 1).$$

    Evaluated as $r^{s-N}\,(1-r^{-s})/(1-r^{-N})$ when $r > 1$ so that large $N$ does not overflow.
    Derivation: [Exact answers][exact-answers].

    Examples
    --------
    >>> from dnnf.rare_events import infinite_horizon_probability
    >>> infinite_horizon_probability(0.5, 3, 10)  # fair game: s / N
    0.3
    >>> round(infinite_horizon_probability(18 / 37, 10, 20), 6)  # roulette red, double 10 before ruin
    0.368031
    """
    problem = GamblersRuin(p, start, goal)
    p, s, n = problem.p, problem.start, problem.goal
    if p == 0.5:
        return s / n
    log_r = math.log1p(-p) - math.log(p)
    if log_r > 0:  # r > 1: divide through by r^N to keep every power <= 1
        return math.exp((s - n) * log_r) * math.expm1(-s * log_r) / math.expm1(-n * log_r)
    return math.expm1(s * log_r) / math.expm1(n * log_r)


# The DP table is (horizon + 1) x (goal + 1) floats: refuse one over 1 GiB instead of failing to
# allocate it (or swapping) with a message that names neither argument.
_MAX_TABLE_ENTRIES = 2**27


def _check_problem(problem: object) -> GamblersRuin:
    if not isinstance(problem, GamblersRuin):
        raise TypeError(f"problem must be a GamblersRuin, got {type(problem).__name__}")
    if problem.horizon is not None and (problem.horizon + 1) * (problem.goal + 1) > _MAX_TABLE_ENTRIES:
        raise ValueError(
            f"problem's (horizon + 1) * (goal + 1) must be at most {_MAX_TABLE_ENTRIES} for the exact DP "
            f"(a 1 GiB table), got horizon={problem.horizon}, goal={problem.goal}"
        )
    return problem


def _recursion(problem: GamblersRuin, up: float, down: float, games: int) -> np.ndarray:
    """Rows t = 0..games of v_t(x) = up v_{t-1}(x+1) + down v_{t-1}(x-1), v_t(0)=0, v_t(goal)=1."""
    n = problem.goal
    table = np.zeros((games + 1, n + 1))
    table[:, n] = 1.0
    for t in range(1, games + 1):
        table[t, 1:n] = up * table[t - 1, 2:] + down * table[t - 1, :-2]
    return table


def success_table(problem: GamblersRuin) -> np.ndarray:
    r"""DP table $u_t(x) = P(A_t \mid X_0 = x)$ for $t = 0..T$ and $x = 0..N$ (finite horizon only).

    $$u_0(x) = \mathbf 1\{x = N\}, \qquad u_t(x) = p\,u_{t-1}(x+1) + (1-p)\,u_{t-1}(x-1),\ 0<x<N,$$

    with $u_t(0) = 0$ and $u_t(N) = 1$. Cost $O(TN)$.

    Derivation: [Exact answers][exact-answers].

    Returns
    -------
    numpy.ndarray
        Array of shape ``(horizon + 1, goal + 1)``; entry ``[t, x]`` is $u_t(x)$.

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, success_table
    >>> success_table(GamblersRuin(0.5, 1, 3, horizon=3)).tolist()  # rows t = 0..3, columns x = 0..3
    [[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.5, 1.0], [0.0, 0.25, 0.5, 1.0], [0.0, 0.25, 0.625, 1.0]]
    """
    _check_problem(problem)
    if problem.horizon is None:
        raise ValueError("success_table needs a finite horizon; use infinite_horizon_probability")
    return _recursion(problem, problem.p, 1.0 - problem.p, problem.horizon)


def exact_probability(problem: GamblersRuin) -> float:
    r"""$P(A_T)$: the DP value $u_T(s)$ for a finite horizon, the closed form when ``horizon`` is None.

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, exact_probability
    >>> f"{exact_probability(GamblersRuin(0.4, 3, 10, horizon=50)):.6g}"
    '0.0392749'
    """
    _check_problem(problem)
    if problem.horizon is None:
        return infinite_horizon_probability(problem.p, problem.start, problem.goal)
    return float(success_table(problem)[-1, problem.start])


def second_moment(problem: GamblersRuin, q: float) -> float:
    r"""Exact second moment per path of the importance-sampling estimator with a fixed coin ``q``.

    With the likelihood ratio $w = (p/q)^{W}((1-p)/(1-q))^{L}$ of a path with $W$ wins and $L$ losses,
    $m_T(s) = E_q[w^2 \mathbf 1_{A_T}] = E_p[w \mathbf 1_{A_T}]$ obeys the same recursion as $u$ with
    the coefficients $p^2/q$ and $(1-p)^2/(1-q)$:

    $$m_t(x) = \frac{p^2}{q}\, m_{t-1}(x+1) + \frac{(1-p)^2}{1-q}\, m_{t-1}(x-1).$$

    Finite horizon only (for $T=\infty$ use a large horizon: $m_T$ increases to $m_\infty$).

    Derivation: [Importance sampling][importance-sampling].

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, second_moment
    >>> f"{second_moment(GamblersRuin(0.4, 3, 10, horizon=50), q=0.6):.4g}"
    '0.002299'
    """
    _check_problem(problem)
    q = check_probability("q", q)
    if problem.horizon is None:
        raise ValueError("second_moment needs a finite horizon; pass a large horizon instead")
    p = problem.p
    return float(_recursion(problem, p * p / q, (1 - p) ** 2 / (1 - q), problem.horizon)[-1, problem.start])


def relative_variance(problem: GamblersRuin, q: float) -> float:
    r"""Relative variance per path $\operatorname{Var}_q(w\mathbf 1_A)/P(A)^2 = m_T(s)/u_T(s)^2 - 1$.

    The squared relative error of an $n$-path estimate is this number divided by $n$.

    Examples
    --------
    The swapped coin $q = 0.6$ needs about 50 times fewer paths than plain Monte Carlo ($q = p$):

    >>> from dnnf.rare_events import GamblersRuin, relative_variance
    >>> problem = GamblersRuin(0.4, 3, 10, horizon=50)
    >>> f"{relative_variance(problem, 0.6):.4g}", f"{relative_variance(problem, 0.4):.4g}"
    ('0.4902', '24.46')
    """
    m2 = second_moment(problem, q)
    prob = exact_probability(problem)
    if prob == 0.0:
        raise ValueError("the event has probability 0 (horizon < goal - start); relative variance undefined")
    return m2 / prob**2 - 1.0


def horizon_weight_bound(problem: GamblersRuin, q: float | None = None) -> float:
    r"""The largest likelihood ratio on $A_T$ under a fixed coin $q \ge 1/2$ with $q(1-q) \le p(1-p)$.

    A path that succeeds at time $\tau \le T$ has $W = (\tau + d)/2$ wins, $L = (\tau - d)/2$ losses
    ($d = N - s$), so $\log w$ is affine in $\tau$ with slope $\tfrac12\log\frac{p(1-p)}{q(1-q)} \ge 0$
    and is largest at $\tau = T$:

    $$w \le \Big(\frac pq\Big)^{(T+d)/2}\Big(\frac{1-p}{1-q}\Big)^{(T-d)/2}
    = e^{-T\,\mathrm{KL}(q_T \,\|\, p)} \quad\text{for } q = q_T = \tfrac12(1 + d/T),$$

    with $\mathrm{KL}(a\|b) = a\log\frac ab + (1-a)\log\frac{1-a}{1-b}$. Hence the relative variance
    per path is at most $\max w / P(A_T) - 1$. ``q=None`` means $q_T$.

    Derivation: [A fixed tilt for the horizon][a-fixed-tilt-for-the-horizon].

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, horizon_weight_bound
    >>> f"{horizon_weight_bound(GamblersRuin(0.4, 3, 10, horizon=10)):.4g}"
    '0.0132'
    """
    _check_problem(problem)
    if problem.horizon is None or problem.horizon < problem.distance:
        raise ValueError("horizon_weight_bound needs a finite horizon >= goal - start")
    p, t, d = problem.p, problem.horizon, problem.distance
    q = 0.5 * (1.0 + d / t) if q is None else check_probability("q", q)
    if q < 0.5 or q * (1 - q) > p * (1 - p):
        raise ValueError(f"q must satisfy q >= 1/2 and q(1-q) <= p(1-p) = {p * (1 - p):.6g}, got {q!r}")
    # with t = d only straight wins succeed (L = 0), and q_T = 1 has no loss term
    log_loss = (t - d) / 2 * math.log((1 - p) / (1 - q)) if t > d else 0.0
    return math.exp((t + d) / 2 * math.log(p / q) + log_loss)


def chernoff_bound(problem: GamblersRuin) -> float:
    r"""Chernoff bound $P(A_T) \le M(\theta)^T e^{-\theta d}$ at the tilt that centres the walk on the goal.

    With $M(\theta) = p e^{\theta} + (1-p) e^{-\theta}$ the stopped process $e^{\theta(X_{k\wedge\tau} - s)}$
    is a non-negative submartingale when $M(\theta) \ge 1$, and Doob's maximal inequality gives
    $P(A_T) \le E[e^{\theta(X_{T\wedge\tau}-s)}]\,e^{-\theta d} \le M(\theta)^T e^{-\theta d}$. Minimising
    the exponent over $\theta$ ($M'(\theta)/M(\theta) = d/T = 2q_T - 1$) gives

    $$\theta_T = \tfrac12 \log\frac{q_T(1-p)}{(1-q_T)p}, \qquad M(\theta_T)^T e^{-\theta_T d}
    = e^{-T\,\mathrm{KL}(q_T\,\|\,p)}, \qquad q_T = \tfrac12(1 + d/T).$$

    $M(\theta_T) \ge 1$ holds exactly when $q_T \ge 1 - p$, i.e. $T \le d/(1-2p)$ for $p < 1/2$. Past
    that horizon the submartingale condition fails and so does the bound (for the roulette at
    $T = 20{,}000$ it would give $3.5\times10^{-5}$ while $P(A_T) = 4.47\times10^{-3}$): a ``ValueError``
    is raised.

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, chernoff_bound, exact_probability
    >>> problem = GamblersRuin(0.4, 3, 10, horizon=20)
    >>> f"{chernoff_bound(problem):.4g} >= {exact_probability(problem):.4g}"
    '0.04602 >= 0.02066'
    """
    _check_problem(problem)
    if problem.horizon is None or problem.horizon < problem.distance:
        raise ValueError("chernoff_bound needs a finite horizon >= goal - start")
    p, t, d = problem.p, problem.horizon, problem.distance
    q = 0.5 * (1.0 + d / t)
    if q < 1.0 - p:
        raise ValueError(
            f"horizon {t} exceeds d/(1-2p) = {d / (1 - 2 * p):.6g}: q_T = {q:.6g} < 1 - p, so "
            "exp(theta (X_k - s)) is not a submartingale and the Chernoff bound does not hold"
        )
    if q == 1.0:  # T = d: theta is infinite; the bound's limit p^d is exact (straight wins only)
        return p**d
    theta = 0.5 * math.log(q * (1 - p) / ((1 - q) * p))
    log_m = math.log(p * math.exp(theta) + (1 - p) * math.exp(-theta))
    return math.exp(t * log_m - theta * d)


def expected_duration_given_success(p: float, start: int, goal: int) -> float:
    r"""$E[\tau \mid A_\infty]$: the mean number of games of a walk that reaches ``goal`` before 0.

    With $\kappa = \tfrac12\log\frac{1-p}{p}$ (so $\coth\kappa = 1/(1-2p)$),

    $$E[\tau \mid A_\infty] = \frac{N\coth(N\kappa) - s\coth(s\kappa)}{1-2p} \quad (p \ne \tfrac12),
    \qquad \frac{N^2 - s^2}{3} \quad (p = \tfrac12).$$

    Derivation (page *Rare events*, eq. (2a)): $\phi_\lambda(x) = E_x[\lambda^\tau \mathbf 1_{A_\infty}]$
    solves $\phi(x) = \lambda p\,\phi(x+1) + \lambda(1-p)\,\phi(x-1)$, $\phi(0) = 0$, $\phi(N) = 1$, so
    $\phi_\lambda(x) = r^{(x-N)/2}\sinh(x\eta)/\sinh(N\eta)$ with $\cosh\eta = 1/(2\lambda\sqrt{p(1-p)})$;
    then $E[\tau \mid A_\infty] = \partial_\lambda \log\phi_\lambda(s)$ at $\lambda = 1$, where
    $\eta = |\kappa|$ and $d\eta/d\lambda = -\coth|\kappa|$. The formula is even in $p \mapsto 1-p$.

    Examples
    --------
    >>> from dnnf.rare_events import expected_duration_given_success
    >>> round(expected_duration_given_success(0.4, 3, 10), 3)  # games of a walk from 3 that reaches 10
    24.133
    """
    problem = GamblersRuin(p, start, goal)
    p, s, n = problem.p, problem.start, problem.goal
    if p == 0.5:
        return (n * n - s * s) / 3.0
    kappa = 0.5 * (math.log1p(-p) - math.log(p))
    return (n / math.tanh(n * kappa) - s / math.tanh(s * kappa)) / (1.0 - 2.0 * p)
