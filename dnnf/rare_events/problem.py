"""The gambler's-ruin question, stated with its horizon."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dnnf._validation import check_int, check_probability

__all__ = ["GamblersRuin"]


@dataclass(frozen=True)
class GamblersRuin:
    r"""A player with balance ``start`` bets 1 per game, winning each game with probability ``p``.

    The walk starts at $X_0 = s$ (``start``), moves by $X_{k+1} = X_k \pm 1$ and is absorbed at $0$
    (ruin) and at $N$ (``goal``).
    The rare event is

    $$A_T = \{\tau_{\mathrm{goal}} < \tau_0,\ \tau_{\mathrm{goal}} \le T\},$$

    reaching the goal before ruin within $T$ = ``horizon`` games; ``horizon=None`` means $T = \infty$.

    See [The question, with its horizon][the-question-with-its-horizon].

    Parameters
    ----------
    p : float
        Win probability of one game, strictly between 0 and 1 (roulette red: 18/37).
    start : int
        Initial balance, strictly between 0 and ``goal``.
    goal : int
        Balance at which the player stops, at least 2.
    horizon : int or None
        Maximum number of games ($T \ge 0$), or ``None`` for no limit.

    Examples
    --------
    >>> from dnnf.rare_events import GamblersRuin
    >>> problem = GamblersRuin(p=0.4, start=3, goal=10, horizon=50)
    >>> problem.distance  # games needed with no loss
    7
    """

    p: float
    start: int
    goal: int
    horizon: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "p", check_probability("p", self.p))
        for name in ("start", "goal"):
            value = getattr(self, name)
            object.__setattr__(self, name, check_int(name, value, minimum=-(2**62)))
        if self.goal < 2:
            raise ValueError(f"goal must be an integer >= 2, got {self.goal}")
        if not 0 < self.start < self.goal:
            raise ValueError(f"start must be strictly between 0 and goal={self.goal}, got {self.start}")
        if self.horizon is not None:
            object.__setattr__(self, "horizon", check_int("horizon", self.horizon, minimum=0))

    @property
    def distance(self) -> int:
        """Net number of wins needed: ``goal - start``."""
        return self.goal - self.start

    @property
    def games(self) -> float:
        """The horizon as a number: ``horizon``, or ``math.inf`` when there is none."""
        return math.inf if self.horizon is None else float(self.horizon)
