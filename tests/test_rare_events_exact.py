"""Exact references of the rare-events chapter (docs/rare-events/index.md)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnnf.rare_events import (
    GamblersRuin,
    chernoff_bound,
    exact_probability,
    expected_duration_given_success,
    horizon_weight_bound,
    infinite_horizon_probability,
    relative_variance,
    second_moment,
    success_table,
)

P_RED = 18 / 37


def _enumerate(p, start, goal, horizon, q=None):
    """Brute force over the game tree: (P(A_T), E_q[w^2 1_A]) summed over every path."""
    q = p if q is None else q

    def walk(x, games_left, prob, w):
        if x == goal:
            return prob, prob * w  # E_q[w^2 1_A] = sum over paths of q-prob * w^2 = p-prob * w
        if x == 0 or games_left == 0:
            return 0.0, 0.0
        up = walk(x + 1, games_left - 1, prob * p, w * p / q)
        down = walk(x - 1, games_left - 1, prob * (1 - p), w * (1 - p) / (1 - q))
        return up[0] + down[0], up[1] + down[1]

    return walk(start, horizon, 1.0, 1.0)


@pytest.mark.claim("rare-events/index.md#eq-3", note="against a sum over the whole game tree")
@pytest.mark.parametrize("p,start,goal,horizon", [(0.3, 2, 5, 9), (P_RED, 3, 6, 12), (0.6, 1, 4, 7)])
def test_dp_matches_brute_force_enumeration(p, start, goal, horizon):
    """docs/rare-events/index.md, eq. (3): u_T(s) equals the sum over all game sequences."""
    brute, _ = _enumerate(p, start, goal, horizon)
    assert exact_probability(GamblersRuin(p, start, goal, horizon)) == pytest.approx(brute, rel=1e-12)


@pytest.mark.claim("rare-events/index.md#eq-3", note="against a sum over the whole game tree")
@settings(max_examples=40, deadline=None)
@given(
    p=st.floats(0.05, 0.95),
    goal=st.integers(2, 7),
    start_frac=st.floats(0.0, 1.0),
    horizon=st.integers(0, 11),
)
def test_dp_matches_brute_force_property(p, goal, start_frac, horizon):
    """docs/rare-events/index.md, eq. (3): u_T(s) equals the game-tree sum for random small problems."""
    start = 1 + min(int(start_frac * (goal - 1)), goal - 2)
    brute, _ = _enumerate(p, start, goal, horizon)
    exact = exact_probability(GamblersRuin(p, start, goal, horizon))
    assert exact == pytest.approx(brute, rel=1e-10, abs=1e-300)


@pytest.mark.claim("rare-events/index.md#eq-6", note="by enumeration")
@pytest.mark.parametrize("q", [0.4, 0.55, 0.7])
def test_second_moment_dp_matches_brute_force(q):
    """docs/rare-events/index.md, eq. (6): m_T(s) = E_q[w^2 1_A] by enumeration."""
    p, start, goal, horizon = 0.35, 2, 5, 10
    _, brute = _enumerate(p, start, goal, horizon, q)
    assert second_moment(GamblersRuin(p, start, goal, horizon), q) == pytest.approx(brute, rel=1e-12)


@pytest.mark.claim(
    "rare-events/index.md#eq-2",
    "rare-events/index.md#eq-3",
    note="and the convergence of (3) to (2)",
)
@pytest.mark.parametrize("p,start,goal", [(P_RED, 100, 200), (0.3, 3, 10), (0.5, 7, 20), (0.7, 2, 9)])
def test_dp_converges_to_closed_form(p, start, goal):
    """docs/rare-events/index.md, eq. (2): u_T(s) increases to P_inf as T grows."""
    closed = infinite_horizon_probability(p, start, goal)
    values = [exact_probability(GamblersRuin(p, start, goal, t)) for t in (goal, 20 * goal, 200 * goal)]
    assert values[0] <= values[1] <= values[2] <= closed * (1 + 1e-12)
    assert values[2] == pytest.approx(closed, rel=1e-7)  # the remaining tail P(T < tau < inf)


@pytest.mark.claim(
    "rare-events/index.md#eq-2",
    "rare-events/index.md#eq-3",
    note="and the convergence of (3) to (2)",
)
def test_closed_form_solves_the_recursion():
    """docs/rare-events/index.md, eq. (2): h(x) = p h(x+1) + (1-p) h(x-1), h(0)=0, h(N)=1."""
    p, n = 0.45, 30
    h = np.array([0.0] + [infinite_horizon_probability(p, x, n) for x in range(1, n)] + [1.0])
    np.testing.assert_allclose(h[1:-1], p * h[2:] + (1 - p) * h[:-2], rtol=1e-12)


@pytest.mark.claim("rare-events/index.md#exact-answers", note="the table of answers")
def test_roulette_answers():
    """docs/rare-events/index.md, 'Exact answers' (table): both horizons, three orders of magnitude apart."""
    finite = exact_probability(GamblersRuin(P_RED, 100, 200, 600))
    infinite = exact_probability(GamblersRuin(P_RED, 100, 200))
    assert finite == pytest.approx(2.38838345e-6, rel=1e-8)
    assert infinite == pytest.approx(4.46628454e-3, rel=1e-8)
    assert 1e3 < infinite / finite < 1e4


@pytest.mark.claim("rare-events/index.md#eq-1", note="$T < d$")
def test_unreachable_goal_has_probability_zero():
    """docs/rare-events/index.md: with T < N - s the event is empty."""
    assert exact_probability(GamblersRuin(0.5, 3, 10, 6)) == 0.0
    assert success_table(GamblersRuin(0.5, 3, 10, 7))[-1, 3] == pytest.approx(0.5**7)


@pytest.mark.claim(
    "rare-events/index.md#choosing-q",
    note="the numbers of \"Choosing q\" and of the errata box",
)
def test_relative_variance_of_q_055_and_of_the_best_fixed_tilt():
    """docs/rare-events/index.md, eq. (6) and the errata box: relative variance of q = 0.55 and of 7/12."""
    problem = GamblersRuin(P_RED, 100, 200, 600)
    rv_055 = relative_variance(problem, 0.55)
    tilt_rv = relative_variance(problem, 7 / 12)
    assert 14 < rv_055 < 16
    assert 1.8 < tilt_rv < 1.9
    assert relative_variance(problem, P_RED) == pytest.approx(1 / exact_probability(problem) - 1, rel=1e-9)


@pytest.mark.claim("rare-events/index.md", note="input checks")
@pytest.mark.parametrize(
    "kwargs,error",
    [
        (dict(p=0.0, start=1, goal=3), ValueError),
        (dict(p=1.0, start=1, goal=3), ValueError),
        (dict(p=math.nan, start=1, goal=3), ValueError),
        (dict(p=0.4, start=0, goal=3), ValueError),
        (dict(p=0.4, start=3, goal=3), ValueError),
        (dict(p=0.4, start=1.5, goal=3), TypeError),
        (dict(p=0.4, start=1, goal=3, horizon=-1), ValueError),
        (dict(p=0.4, start=1, goal=3, horizon=2.0), TypeError),
    ],
)
def test_bad_problem_is_rejected(kwargs, error):
    """Bad input names the argument."""
    with pytest.raises(error, match="p|start|horizon"):
        GamblersRuin(**kwargs)


@pytest.mark.claim("rare-events/index.md", note="input checks")
def test_bad_q_is_rejected():
    """q outside (0, 1) names q."""
    problem = GamblersRuin(0.4, 2, 5, 10)
    for q in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="q"):
            second_moment(problem, q)


@pytest.mark.claim("rare-events/index.md#eq-7", note="with and without a horizon")
def test_swap_relative_variance_closed_form():
    """docs/rare-events/index.md, eq. (7): with q = 1 - p the relative variance is (1 - P_q)/P_q, any horizon.

    P_q is the success probability of the swapped walk (DP with coin 1 - p); also P = r^-d P_q.
    """
    p = P_RED
    for horizon in (150, 600, 3000):
        problem = GamblersRuin(p, 100, 200, horizon)
        swapped = exact_probability(GamblersRuin(1 - p, 100, 200, horizon))
        assert relative_variance(problem, 1 - p) == pytest.approx((1 - swapped) / swapped, rel=1e-9)
        r = (1 - p) / p
        assert exact_probability(problem) == pytest.approx(r**-100 * swapped, rel=1e-12)
    swapped_inf = infinite_horizon_probability(1 - p, 100, 200)
    assert (1 - swapped_inf) / swapped_inf < 0.005  # bounded relative error without a horizon
    assert infinite_horizon_probability(p, 100, 200) == pytest.approx(r**-100 * swapped_inf, rel=1e-12)


@pytest.mark.claim("rare-events/index.md#eq-8", "rare-events/index.md#eq-9")
def test_horizon_tilt_weight_bound():
    """docs/rare-events/index.md, eqs. (8)-(9): under q_T, w <= exp(-T KL(q_T||p)) on A_T, so the
    relative variance is <= bound/P - 1; and P <= the same bound (Chernoff/Doob)."""
    for start, goal, horizon in ((100, 200, 600), (10, 30, 60), (5, 12, 40)):
        problem = GamblersRuin(P_RED, start, goal, horizon)
        q = 0.5 * (1 + problem.distance / horizon)
        bound = horizon_weight_bound(problem)
        kl = q * math.log(q / P_RED) + (1 - q) * math.log((1 - q) / (1 - P_RED))
        assert bound == pytest.approx(math.exp(-horizon * kl), rel=1e-12)
        assert exact_probability(problem) <= bound  # Chernoff/Doob from above
        assert relative_variance(problem, q) <= bound / exact_probability(problem) - 1
    # straight wins only: the bound is attained (every successful path has w = p^d / 1)
    problem = GamblersRuin(0.3, 2, 9, 7)
    assert horizon_weight_bound(problem) == pytest.approx(0.3**7)


@pytest.mark.claim(
    "rare-events/index.md#choosing-q",
    note="the numbers of \"Choosing q\" and of the errata box",
)
def test_best_fixed_tilt_is_near_the_horizon_tilt():
    """docs/rare-events/index.md, 'Choosing q': the exact optimum over fixed q (about 0.588) beats q_T = 7/12
    by under 5% in relative variance, and both beat the reference solution's q = 0.55 by a factor of about
    8."""
    problem = GamblersRuin(P_RED, 100, 200, 600)
    grid = np.linspace(0.56, 0.62, 61)
    values = np.array([relative_variance(problem, q) for q in grid])
    best = grid[values.argmin()]
    assert 0.58 < best < 0.60
    assert values.min() < relative_variance(problem, 7 / 12) < 1.05 * values.min()
    assert 7 < relative_variance(problem, 0.55) / values.min() < 10


@pytest.mark.claim("rare-events/index.md#eq-9a", note="and its failure past $T = d/(1-2p)$")
def test_chernoff_bound_with_the_half_tilt_and_its_horizon_limit():
    """docs/rare-events/index.md, 'A fixed tilt for the horizon': with theta = (1/2) log(q_T(1-p)/((1-q_T)p))
    the Chernoff bound M(theta)^T e^{-theta d} equals e^{-T KL(q_T||p)} = 1.2436e-5 at T = 600 (without the
    1/2 it would be 0.62); it holds up to T = d/(1-2p) = 3,700 and fails past it (T = 20,000: 3.5e-5 vs
    P(A_T) = 4.47e-3), where the function refuses."""
    p = P_RED
    problem = GamblersRuin(p, 100, 200, 600)
    assert chernoff_bound(problem) == pytest.approx(1.2435839942e-5, rel=1e-9)
    assert chernoff_bound(problem) == pytest.approx(horizon_weight_bound(problem), rel=1e-12)
    for start, goal, horizon in ((100, 200, 600), (100, 200, 3700), (10, 30, 60), (5, 12, 40), (2, 9, 7)):
        small = GamblersRuin(p, start, goal, horizon)
        assert exact_probability(small) <= chernoff_bound(small) * (1 + 1e-12)  # equal when T = d
    assert 100 / (1 - 2 * p) == pytest.approx(3700)
    far = GamblersRuin(p, 100, 200, 20_000)
    q = 0.5 * (1 + 100 / 20_000)
    kl = q * math.log(q / p) + (1 - q) * math.log((1 - q) / (1 - p))
    assert math.exp(-20_000 * kl) == pytest.approx(3.4984e-5, rel=1e-4)
    assert exact_probability(far) == pytest.approx(4.4657e-3, rel=1e-4)  # above the would-be bound
    with pytest.raises(ValueError, match="submartingale"):
        chernoff_bound(far)


def _duration_given_success_by_linear_solve(p, start, goal):
    """g(x) = E_x[tau 1_A] solves g = h + p g(x+1) + (1-p) g(x-1), g(0) = g(N) = 0; return g(s)/h(s)."""
    h = np.array(
        [
            infinite_horizon_probability(p, x, goal) if 0 < x < goal else float(x == goal)
            for x in range(goal + 1)
        ]
    )
    n = goal - 1
    a = np.eye(n) - p * np.eye(n, k=1) - (1 - p) * np.eye(n, k=-1)
    g = np.linalg.solve(a, h[1:goal])
    return g[start - 1] / h[start]


@pytest.mark.claim("rare-events/index.md#eq-2a", note="against the first-game recursion (3,666.95)")
@pytest.mark.parametrize("p,start,goal", [(P_RED, 100, 200), (0.5, 3, 10), (0.3, 4, 9), (0.62, 7, 20)])
def test_expected_duration_given_success(p, start, goal):
    """docs/rare-events/index.md, eq. (2a): E[tau | A_inf] in closed form against the first-game recursion;
    for the roulette it is 3,666.95 games (d/(1-2p) = 3,700 is only its large-N limit)."""
    value = expected_duration_given_success(p, start, goal)
    assert value == pytest.approx(_duration_given_success_by_linear_solve(p, start, goal), rel=1e-9)
    assert expected_duration_given_success(1 - p, start, goal) == pytest.approx(value, rel=1e-12)
    if p == P_RED:
        assert value == pytest.approx(3666.9495, abs=1e-4)


@pytest.mark.claim("rare-events/index.md#choosing-q", note="the ratio 126")
def test_swap_is_126_times_worse_than_the_seed_tilt_at_600_games():
    """docs/rare-events/index.md, 'The swapped coin, without and with a horizon': relative variance 1877 under
    q = 1 - p against 14.9 under q = 0.55, a ratio of 126."""
    problem = GamblersRuin(P_RED, 100, 200, 600)
    swap, seed = relative_variance(problem, 1 - P_RED), relative_variance(problem, 0.55)
    assert swap == pytest.approx(1877.39, abs=0.01)
    assert seed == pytest.approx(14.9009, abs=1e-4)
    assert round(swap / seed) == 126
