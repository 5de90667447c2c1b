"""The proposals share one protocol: ``choose`` returns a win probability, whatever the proposal."""

from __future__ import annotations

import numpy as np
import pytest

from dnnf.rare_events import (
    BridgeTilt,
    FixedTilt,
    GamblersRuin,
    Proposal,
    ZeroVarianceTilt,
    exact_probability,
    importance_sampling,
)

PROBLEM = GamblersRuin(0.4, 3, 10, horizon=50)


@pytest.mark.parametrize(
    "proposal", [FixedTilt(0.6), BridgeTilt(PROBLEM), ZeroVarianceTilt(PROBLEM)], ids=repr
)
def test_choose_returns_a_probability(proposal):
    """Every proposal is a ``Proposal``; ``choose`` gives a probability in (0, 1] per path, one of
    ``levels`` when the proposal has them."""
    assert isinstance(proposal, Proposal)
    balance = np.array([1, 3, 5, 8, 9])
    games_left = np.array([49.0, 40.0, 12.0, 3.0, 1.0])
    q = proposal.choose(balance, games_left)
    assert q.shape == balance.shape and q.dtype == np.float64
    assert np.all((q > 0) & (q <= 1))
    if proposal.levels is not None:
        assert np.isin(q, proposal.levels).all()


class _CoinWithoutLevels:
    """A user's proposal: the true coin, chosen game by game (no levels, so no leaps)."""

    max_leap = 1
    levels = None

    def choose(self, balance: np.ndarray, games_left: np.ndarray) -> np.ndarray:
        return np.full(balance.shape, PROBLEM.p)


class _CoinOffItsLevels(_CoinWithoutLevels):
    """Claims the levels (0.5, 0.6) but chooses 0.7: the simulator has no binomial table for that coin."""

    max_leap = 8
    levels = np.array([0.5, 0.6])

    def choose(self, balance: np.ndarray, games_left: np.ndarray) -> np.ndarray:
        return np.full(balance.shape, 0.7)


def test_a_custom_proposal_without_levels_is_simulated_game_by_game():
    """The true coin as a custom proposal is plain Monte Carlo: the estimate lies within 4 standard
    errors of the exact answer."""
    result = importance_sampling(PROBLEM, _CoinWithoutLevels(), 20_000, seed=1)
    assert result.num_hits > 0
    assert abs(result.estimate - exact_probability(PROBLEM)) < 4 * result.std_error


def test_a_proposal_without_levels_must_play_one_game_at_a_time():
    coin = _CoinWithoutLevels()
    coin.max_leap = 4
    with pytest.raises(ValueError, match="max_leap must be 1"):
        importance_sampling(PROBLEM, coin, 100, seed=0)


def test_a_probability_outside_the_levels_is_refused():
    with pytest.raises(ValueError, match="not one of proposal.levels"):
        importance_sampling(PROBLEM, _CoinOffItsLevels(), 100, seed=0)
