"""Bad values that used to slip through: each now fails at once with a dnnf error naming the argument.

Every case below was found by trying the public API as a careless user would (issue "Reliability"):
before the shared checks of ``dnnf/_validation.py`` it returned NaN or inf, a wrong answer, or failed
deep inside torch or numpy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dnnf.estimators import optimize_gaussian_objective, stationary_points
from dnnf.flows import flow_2d, nice_mnist
from dnnf.inpainting import kde_conditional_mean
from dnnf.projection import project_box, project_l1_ball, project_l2_ball, project_simplex
from dnnf.rare_events import (
    BridgeTilt,
    FixedTilt,
    GamblersRuin,
    estimate_from_log_weights,
    exact_probability,
    importance_sampling,
    plain_monte_carlo,
)

INF, NAN = math.inf, math.nan
PROBLEM = GamblersRuin(0.4, 3, 6, horizon=20)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: project_l2_ball(torch.ones(3), radius=INF), "radius must be non-negative and finite"),
        (lambda: project_l1_ball(torch.ones(3), radius=INF), "radius must be non-negative and finite"),
        (lambda: project_simplex(torch.ones(3), total=INF), "total must be positive and finite"),
        (lambda: project_box(torch.ones(3), INF, INF), "lower must be < \\+inf"),
        (lambda: project_box(torch.ones(3), -INF, -INF), "upper must be > -inf"),
    ],
)
def test_infinite_sizes_of_a_set_are_refused(call, match):
    """An infinite radius, total or bound used to return NaN or inf."""
    with pytest.raises(ValueError, match=match):
        call()


def test_an_unbounded_box_is_still_allowed():
    """-inf <= y <= inf is a legitimate box (all of R^n): the check refuses only empty boxes."""
    y = torch.tensor([-2.0, 3.0])
    assert torch.equal(project_box(y, -INF, INF), y)


@pytest.mark.parametrize("lr", [INF, NAN, -1.0, "0.1", True])
def test_optimize_gaussian_objective_refuses_a_bad_step_size(lr):
    """lr=inf used to fail inside torch.distributions; a string or a bool inside float()."""
    with pytest.raises((ValueError, TypeError), match="lr must be"):
        optimize_gaussian_objective("pathwise", lr=lr, num_steps=2)


def test_optimize_gaussian_objective_stops_when_the_iterate_diverges():
    """A finite but far too large step sends sigma to infinity: a FloatingPointError names the step."""
    with pytest.raises(FloatingPointError, match="diverged at step 1"):
        optimize_gaussian_objective("exact", mu0=0.0, sigma0=1.0, lr=1e6, num_steps=3)


def test_log_prob_of_an_image_with_nan_is_an_error():
    """The logit layer's range check let NaN through, so log_prob returned NaN."""
    model = nice_mnist(image_shape=(1, 4, 4), num_couplings=2, hidden=8, num_hidden_layers=1)
    x = torch.full((2, 1, 4, 4), 0.5)
    x[1, 0, 2, 2] = NAN
    with pytest.raises(ValueError, match="x must be finite"):
        model.log_prob(x)
    with pytest.raises(ValueError, match="x must be finite"):
        flow_2d().log_prob(torch.tensor([[0.0, INF]]))


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_log_weights_must_be_finite(bad):
    """A NaN log-weight used to give estimate=nan; +inf gave nan too."""
    with pytest.raises(ValueError, match="log_weights must be finite"):
        estimate_from_log_weights(np.array([0.0, bad, -1.0]), 10)


def test_kde_with_a_tiny_bandwidth_is_the_nearest_neighbour_fill():
    """A bandwidth whose square underflows used to fill the hole with NaN; its limit is the nearest kernel."""
    g = torch.Generator().manual_seed(0)
    images, train = torch.rand(3, 1, 4, 4, generator=g), torch.rand(6, 1, 4, 4, generator=g)
    known = torch.ones(1, 1, 4, 4, dtype=torch.bool)
    known[..., 1:3, 1:3] = False
    for h in (1e-30, 1e-200):
        filled = kde_conditional_mean(images, known, train, bandwidth=h)
        assert bool(torch.isfinite(filled).all())
        # each fill is exactly one training image's hole: the one nearest on the known pixels
        k = known.flatten()
        dist = torch.cdist(images.flatten(1)[:, k], train.flatten(1)[:, k])
        nearest = train[dist.argmin(1)]
        assert torch.equal(filled[..., 1:3, 1:3], nearest[..., 1:3, 1:3])


def test_kde_with_no_training_images_is_an_error():
    """An empty training set used to fill the hole with zeros."""
    known = torch.ones(1, 1, 4, 4, dtype=torch.bool)
    with pytest.raises(ValueError, match=r"train_images must have shape \(B, C, H, W\) with B >= 1"):
        kde_conditional_mean(torch.rand(2, 1, 4, 4), known, torch.rand(0, 1, 4, 4), bandwidth=0.1)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: FixedTilt(0.6, max_leap=NAN), TypeError, "max_leap must be an integer"),
        (lambda: FixedTilt(0.6, max_leap=INF), TypeError, "max_leap must be an integer"),
        (lambda: FixedTilt(0.6, max_leap="8"), TypeError, "max_leap must be an integer"),
        (lambda: FixedTilt(0.6, max_leap=-3), ValueError, "max_leap must be an integer"),
        (lambda: FixedTilt(0.6, max_leap=10**6), ValueError, "max_leap must be an integer between 1 and"),
        (lambda: BridgeTilt(PROBLEM, resolution=2.5), TypeError, "resolution must be an integer"),
        (lambda: plain_monte_carlo(PROBLEM, 100, chunk_size=NAN), TypeError, "chunk_size must be an int"),
        (lambda: plain_monte_carlo(PROBLEM, 100, chunk_size="64"), TypeError, "chunk_size must be an int"),
        (lambda: plain_monte_carlo(PROBLEM, 100, chunk_size=0.5), TypeError, "chunk_size must be an int"),
        (lambda: plain_monte_carlo(PROBLEM, 100, seed=-1), ValueError, "seed must be an integer"),
        (lambda: plain_monte_carlo(PROBLEM, 100, seed=1.5), TypeError, "seed must be an integer"),
        (lambda: plain_monte_carlo(PROBLEM, 1e6), TypeError, "num_paths must be an integer"),
        (lambda: importance_sampling(PROBLEM, FixedTilt(0.6), 100, seed="0"), TypeError, "seed must be"),
        (lambda: estimate_from_log_weights(np.zeros(2), 10.5), TypeError, "num_paths must be an integer"),
        (lambda: stationary_points(num_steps=NAN), TypeError, "num_steps must be an integer"),
        (lambda: stationary_points(num_steps="5"), TypeError, "num_steps must be an integer"),
        (lambda: stationary_points(grid=(10, INF)), TypeError, r"grid\[1\] must be an integer"),
        (lambda: stationary_points(mu_range=(0.0, INF)), ValueError, r"mu_range\[1\] must be a finite"),
        (lambda: exact_probability(GamblersRuin(0.4, 3, 10**6, horizon=10**6)), ValueError, "horizon"),
    ],
)
def test_integer_like_arguments_are_checked(call, exc, match):
    """NaN, inf, strings, floats and negatives used to crash in int(), return [] or allocate terabytes."""
    with pytest.raises(exc, match=match):
        call()
