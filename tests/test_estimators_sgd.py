"""The Gaussian objective (docs/estimators/gaussian-objective.md): SGD reaches the minimiser of its basin."""

import math

import pytest
import torch

from dnnf.estimators import (
    Trajectory,
    basin_minimizer,
    iterations_to_reach,
    optimize_gaussian_objective,
    running_average,
)

LOCAL_MIN = (0.44229748832082, 0.60649502493158)
GLOBAL_MIN = (1.36669929517147, 1.96219822814220)


@pytest.mark.claim(
    "estimators/gaussian-objective.md#which-minimum-the-reference-solution-finds",
    note="the basins of the two starting points",
)
def test_basins_of_the_two_starts():
    """gaussian-objective.md, "Which minimum": exact descent from (0, 1) ends at the local minimum.

    From (2, 2.5) it ends at the global one. Both agree to 1e-10 with the table's values, which
    test_stationary_points_complete_and_classified ties to stationary_points().
    """
    for start, ref in (((0.0, 1.0), LOCAL_MIN), ((2.0, 2.5), GLOBAL_MIN)):
        mu, sigma = basin_minimizer(*start)
        assert abs(mu - ref[0]) < 1e-10 and abs(sigma - ref[1]) < 1e-10


@pytest.mark.claim("estimators/gaussian-objective.md#eq-6", note="with both estimators, from both starts")
@pytest.mark.parametrize(
    "estimator, baseline, start, num_samples, num_steps, tol",
    [
        ("pathwise", None, (0.0, 1.0), 32, 600, 0.02),
        ("score", "loo", (0.0, 1.0), 32, 600, 0.035),
        ("pathwise", None, (2.0, 2.5), 256, 1200, 0.08),
    ],
)
def test_sgd_reaches_basin_minimizer(estimator, baseline, start, num_samples, num_steps, tol):
    """gaussian-objective.md, eq. (6): averaged SGD (step 0.1, averaging after num_steps/4) ends within tol.

    tol is about four times the predicted error of the averaged iterate, sqrt(v / (n K lambda_min^2)),
    with v the per-sample variance at the minimiser (0.83 pathwise and 2.5 score + baseline at the local
    minimum, 29 pathwise at the global one), lambda_min the Hessian's smallest eigenvalue and K the number
    of averaged steps: 0.019, 0.033 and 0.076.
    """
    torch.manual_seed(50)
    target = basin_minimizer(*start)
    raw = optimize_gaussian_objective(
        estimator, *start, lr=0.1, num_steps=num_steps, num_samples=num_samples, baseline=baseline
    )
    avg = running_average(raw, num_steps // 4)
    error = math.hypot(float(avg.mu[-1]) - target[0], float(avg.sigma[-1]) - target[1])
    assert error < tol, (estimator, start, error)


@pytest.mark.claim(
    "estimators/gaussian-objective.md#stochastic-gradient-descent",
    note="the helpers behind the iteration counts",
)
def test_exact_descent_is_deterministic_and_reaches_target():
    """The 'exact' estimator is plain gradient descent: it converges and iterations_to_reach counts it."""
    target = basin_minimizer(0.0, 1.0)
    run = optimize_gaussian_objective("exact", 0.0, 1.0, lr=0.1, num_steps=300)
    k = iterations_to_reach(run, target, 1e-2)
    assert k is not None and 0 < k < 300
    assert math.hypot(float(run.mu[k]) - target[0], float(run.sigma[k]) - target[1]) < 1e-2
    assert math.hypot(float(run.mu[k - 1]) - target[0], float(run.sigma[k - 1]) - target[1]) >= 1e-2


@pytest.mark.claim(
    "estimators/gaussian-objective.md#stochastic-gradient-descent",
    note="the helpers behind the iteration counts",
)
def test_running_average_and_reach_edge_cases():
    """running_average averages from `start` on; iterations_to_reach is None when the run ends outside."""
    traj = Trajectory(torch.tensor([0.0, 2.0, 4.0, 6.0]), torch.tensor([1.0, 1.0, 3.0, 3.0]), "exact")
    avg = running_average(traj, 1)
    torch.testing.assert_close(avg.mu, torch.tensor([0.0, 2.0, 3.0, 4.0]))
    assert iterations_to_reach(traj, (6.0, 3.0), 0.5) == 3
    assert iterations_to_reach(traj, (0.0, 1.0), 0.5) is None
    with pytest.raises(ValueError, match="start"):
        running_average(traj, 4)
    with pytest.raises(ValueError, match="estimator"):
        optimize_gaussian_objective("reinforce")
    with pytest.raises(ValueError, match="sigma"):
        optimize_gaussian_objective("pathwise", 0.0, 0.0)
    with pytest.raises(ValueError, match="num_steps"):
        optimize_gaussian_objective("exact", num_steps=0)
