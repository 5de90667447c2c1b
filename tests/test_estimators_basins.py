"""The basin map of problem 6.

Checks docs/estimators/gaussian-objective.md, 'Which minimum the reference solution finds'.
"""

import pytest
import torch

from dnnf.estimators import basin_map, basin_minimizer

MU = torch.linspace(-1.5, 3.5, 11)
SIGMA = torch.linspace(0.2, 3.5, 9)


@pytest.mark.claim(
    "estimators/gaussian-objective.md#which-minimum-the-reference-solution-finds",
    note="the basin map",
)
def test_exact_basin_map_matches_basin_minimizer():
    """docs/estimators/gaussian-objective.md, 'Which minimum the reference solution finds' (basin map):
    every start's label
    from batched exact descent is the minimum that basin_minimizer (descent + Newton, one start at a time)
    reaches, and both minima occur; (0, 1) is in the local basin, (2, 2.5) in the global one."""
    exact = basin_map("exact", MU, SIGMA, num_steps=2000)
    assert set(exact.label.unique().tolist()) == {0, 1}
    for i in range(0, len(SIGMA), 2):
        for j in range(0, len(MU), 2):
            m, s = basin_minimizer(float(MU[j]), float(SIGMA[i]))
            expected = min(
                range(2), key=lambda k: abs(exact.minimizers[k][0] - m) + abs(exact.minimizers[k][1] - s)
            )
            assert int(exact.label[i, j]) == expected, (float(MU[j]), float(SIGMA[i]))
    starts = basin_map("exact", torch.tensor([0.0, 2.0]), torch.tensor([1.0, 2.5]), num_steps=2000)
    assert int(starts.label[0, 0]) == 0 and int(starts.label[1, 1]) == 1


@pytest.mark.claim(
    "estimators/gaussian-objective.md#which-minimum-the-reference-solution-finds",
    note="the basin map",
)
@pytest.mark.slow
@pytest.mark.parametrize("estimator", ["pathwise", "score"])
def test_sgd_basin_map_mostly_agrees_with_exact_descent(estimator):
    """docs/estimators/gaussian-objective.md, basin map: SGD (step 0.1, 32 draws, 400 steps) sends at least
    85% of a coarse grid of starts to the same minimum as exact descent, every start ends in one of the
    two basins, and the two standard starts go where exact descent sends them."""
    exact = basin_map("exact", MU, SIGMA, num_steps=2000)
    sgd = basin_map(estimator, MU, SIGMA, num_steps=400, seed=1)
    assert sgd.fraction(-1) == 0.0
    assert float((sgd.label == exact.label).double().mean()) >= 0.85
    starts = basin_map(estimator, torch.tensor([0.0, 2.0]), torch.tensor([1.0, 2.5]), num_steps=400, seed=1)
    assert int(starts.label[0, 0]) == 0 and int(starts.label[1, 1]) == 1


@pytest.mark.claim("estimators/gaussian-objective.md", note="input checks")
def test_basin_map_rejects_bad_input():
    """Bad input names the argument."""
    with pytest.raises(ValueError, match="estimator"):
        basin_map("adam", MU, SIGMA)
    with pytest.raises(ValueError, match="sigma"):
        basin_map("exact", MU, torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="mu"):
        basin_map("exact", torch.zeros(2, 2), SIGMA)
    with pytest.raises(ValueError, match="average_from"):
        basin_map("score", MU, SIGMA, num_steps=10, average_from=10)
