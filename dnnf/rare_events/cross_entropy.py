r"""Cross-entropy method: tune a fixed coin $q$ from pilot runs, without knowing the answer."""

from __future__ import annotations

import numpy as np

from dnnf._validation import check_int, check_probability, check_seed
from dnnf.rare_events.problem import GamblersRuin
from dnnf.rare_events.proposals import FixedTilt
from dnnf.rare_events.simulate import simulate_paths

__all__ = ["cross_entropy_tilt"]


def cross_entropy_tilt(
    problem: GamblersRuin,
    num_pilot: int = 2000,
    num_steps: int = 10,
    rarity: float = 0.1,
    q0: float | None = None,
    seed: int | np.random.Generator | None = None,
) -> tuple[FixedTilt, list[float]]:
    r"""Multilevel cross-entropy choice of a fixed tilt.

    Iteration $k$ simulates ``num_pilot`` paths under $q_k$, scores each by the highest balance $S$ it
    reached, sets the level $\gamma_k = \min(N, (1-\rho)$-quantile of $S)$ with $\rho$ = ``rarity``,
    and moves $q$ to the weighted fraction of wins on the elite paths $E_k = \{S \ge \gamma_k\}$:

    $$q_{k+1} = \frac{\sum_{i \in E_k} w_i W_i}{\sum_{i \in E_k} w_i (W_i + L_i)},$$

    the maximiser of $\sum_{i\in E_k} w_i \log\big(q^{W_i}(1-q)^{L_i}\big)$, where $w_i$ is the
    likelihood ratio to the true coin $p$. It stops when $\gamma_k = N$ and $q$ has settled.

    Derivation: [Cross-entropy: tuning q from pilot runs][cross-entropy-tuning-q-from-pilot-runs].

    Returns
    -------
    (FixedTilt, list of float)
        The tuned proposal and the sequence $q_0, q_1, \dots$.

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin, cross_entropy_tilt
    >>> tilt, history = cross_entropy_tilt(GamblersRuin(0.4, 3, 10, horizon=50), seed=0)
    >>> history[0], round(tilt.q, 2)  # from the true coin to a tilt near the swap 0.6
    (0.4, 0.66)
    """
    if not isinstance(problem, GamblersRuin):
        raise TypeError(f"problem must be a GamblersRuin, got {type(problem).__name__}")
    num_pilot = check_int("num_pilot", num_pilot, minimum=1)
    num_steps = check_int("num_steps", num_steps, minimum=1)
    rarity = check_probability("rarity", rarity)
    q = check_probability("q0", problem.p if q0 is None else q0)
    rng = np.random.default_rng(seed if seed is None or isinstance(seed, np.random.Generator)
                                else check_seed("seed", seed))
    history = [q]
    for _ in range(num_steps):
        batch = simulate_paths(problem, FixedTilt(q), int(num_pilot), rng, track_top=True)
        level = min(float(problem.goal), float(np.quantile(batch.top, 1.0 - rarity)))
        elite = batch.top >= level
        wins = (batch.games + batch.balance - problem.start)[elite] / 2
        weight = np.exp(batch.log_weight[elite] - batch.log_weight[elite].max())
        q_new = float(np.dot(weight, wins) / np.dot(weight, batch.games[elite]))
        q_new = min(max(q_new, 1e-6), 1 - 1e-6)  # keep a valid coin if the elite is all wins
        settled = level == problem.goal and abs(q_new - q) < 1e-3
        q = q_new
        history.append(q)
        if settled:
            break
    return FixedTilt(q), history
