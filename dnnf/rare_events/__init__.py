r"""Monte Carlo and importance sampling for a rare event: the gambler's ruin.

Exact answers (closed form for $T=\infty$, dynamic programming for a finite horizon $T$), vectorised
importance-sampling estimators with standard errors, and proposal coins from the classical swap to the
zero-variance proposal. See the chapter [Rare events][rare-events-monte-carlo-and-importance-sampling].
"""

from dnnf.rare_events.cross_entropy import cross_entropy_tilt
from dnnf.rare_events.estimate import RareEventEstimate, estimate_from_log_weights, weight_ess
from dnnf.rare_events.exact import (
    chernoff_bound,
    exact_probability,
    expected_duration_given_success,
    horizon_weight_bound,
    infinite_horizon_probability,
    relative_variance,
    second_moment,
    success_table,
)
from dnnf.rare_events.interval import clopper_pearson, rule_of_three
from dnnf.rare_events.problem import GamblersRuin
from dnnf.rare_events.proposals import (
    BridgeTilt,
    FixedTilt,
    Proposal,
    ZeroVarianceTilt,
    horizon_tilt,
    swapped_tilt,
)
from dnnf.rare_events.simulate import PathBatch, importance_sampling, plain_monte_carlo, simulate_paths

__all__ = [
    "GamblersRuin",
    "infinite_horizon_probability",
    "success_table",
    "exact_probability",
    "second_moment",
    "relative_variance",
    "horizon_weight_bound",
    "chernoff_bound",
    "expected_duration_given_success",
    "RareEventEstimate",
    "estimate_from_log_weights",
    "weight_ess",
    "clopper_pearson",
    "rule_of_three",
    "Proposal",
    "FixedTilt",
    "BridgeTilt",
    "ZeroVarianceTilt",
    "swapped_tilt",
    "horizon_tilt",
    "cross_entropy_tilt",
    "PathBatch",
    "simulate_paths",
    "importance_sampling",
    "plain_monte_carlo",
]
