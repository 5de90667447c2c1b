r"""Stochastic gradient estimators of $\nabla_\phi \mathbb{E}_{Z\sim q_\phi}[f(Z)]$ and two worked examples.

- [`score_function_surrogate`][dnnf.estimators.score_function_surrogate] /
  [`score_function_gradient`][dnnf.estimators.score_function_gradient]: the log-derivative (REINFORCE)
  estimator, with a leave-one-out baseline by default;
- [`pathwise_surrogate`][dnnf.estimators.pathwise_surrogate] /
  [`pathwise_gradient`][dnnf.estimators.pathwise_gradient]: the reparameterization estimator;
- [`estimator_statistics`][dnnf.estimators.estimator_statistics]: mean, standard error and per-sample variance
  of either estimator;
- the Gaussian log-ratio ([`gaussian_log_ratio_expectation`][dnnf.estimators.gaussian_log_ratio_expectation])
  and the Gaussian objective ([`gaussian_objective`][dnnf.estimators.gaussian_objective],
  [`stationary_points`][dnnf.estimators.stationary_points],
  [`optimize_gaussian_objective`][dnnf.estimators.optimize_gaussian_objective]).
"""

from .basins import BasinMap, basin_map
from .gaussian_objective import (
    StationaryPoint,
    expected_x_sin_x,
    gaussian_objective,
    gaussian_objective_gradient,
    gaussian_objective_hessian,
    stationary_points,
)
from .gaussian_sgd import (
    Trajectory,
    basin_minimizer,
    descent_direction,
    iterations_to_reach,
    optimize_gaussian_objective,
    running_average,
    x_sin_x,
)
from .log_ratio import gaussian_log_ratio_expectation, gaussian_log_ratio_gradient
from .pathwise import pathwise_gradient, pathwise_surrogate
from .score_function import leave_one_out_baseline, score_function_gradient, score_function_surrogate
from .variance import EstimatorStatistics, estimator_statistics

__all__ = [
    "BasinMap",
    "EstimatorStatistics",
    "StationaryPoint",
    "Trajectory",
    "basin_map",
    "basin_minimizer",
    "descent_direction",
    "estimator_statistics",
    "expected_x_sin_x",
    "gaussian_log_ratio_expectation",
    "gaussian_log_ratio_gradient",
    "gaussian_objective",
    "gaussian_objective_gradient",
    "gaussian_objective_hessian",
    "iterations_to_reach",
    "leave_one_out_baseline",
    "optimize_gaussian_objective",
    "pathwise_gradient",
    "running_average",
    "pathwise_surrogate",
    "score_function_gradient",
    "score_function_surrogate",
    "stationary_points",
    "x_sin_x",
]
