"""Checks of ``projected_gradient_descent`` against the claims of docs/projection/index.md (section
"Projected gradient descent"). References: scipy SLSQP on the constrained problem, and the closed-form
rates, checked at every iterate. Float64 throughout; tolerances 1e-8 absorb rounding only.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from dnnf.projection import (
    project_box,
    project_l1_ball,
    project_l2_ball,
    project_simplex,
    projected_gradient_descent,
)

PROJECTIONS = {
    "box": (lambda x: project_box(x, -0.5, 0.5), {"bounds": [(-0.5, 0.5)] * 4}),
    "l2_ball": (
        lambda x: project_l2_ball(x, 1.0),
        {"constraints": [{"type": "ineq", "fun": lambda x: 1.0 - np.sum(x**2)}]},
    ),
    "simplex": (
        project_simplex,
        {"bounds": [(0, None)] * 4, "constraints": [{"type": "eq", "fun": lambda x: x.sum() - 1.0}]},
    ),
    # SLSQP needs a smooth constraint: the l1 ball as the polytope {x : s^T x <= 1 for all signs s}.
    "l1_ball": (
        lambda x: project_l1_ball(x, 1.0),
        {
            "constraints": [
                {"type": "ineq", "fun": lambda x, s=s: 1.0 - s @ x}
                for s in np.array(np.meshgrid(*[[-1.0, 1.0]] * 4)).reshape(4, -1).T
            ]
        },
    ),
}


def _quadratic(seed: int, n: int = 4, rank: int | None = None):
    """f(x) = 1/2 x^T Q x - b^T x with Q = A^T A (rank-deficient when rank < n); returns f, Q, b, mu, L."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(rank or n, n, generator=gen, dtype=torch.float64)
    q = a.T @ a + (0.0 if rank else 0.3) * torch.eye(n, dtype=torch.float64)
    b = 3.0 * torch.randn(n, generator=gen, dtype=torch.float64)
    eig = torch.linalg.eigvalsh(q)
    return (lambda x: 0.5 * x @ q @ x - b @ x), q, b, float(eig[0]), float(eig[-1])


def _slsqp(q: torch.Tensor, b: torch.Tensor, kwargs: dict) -> torch.Tensor:
    qn, bn = q.numpy(), b.numpy()
    res = minimize(
        lambda x: 0.5 * x @ qn @ x - bn @ x,
        np.full(len(bn), 0.1),
        jac=lambda x: qn @ x - bn,
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 1000},
        **kwargs,
    )
    assert res.success, res.message
    return torch.tensor(res.x)


@pytest.mark.claim(
    "projection/index.md#eq-12",
    "projection/index.md#eq-13",
    "projection/index.md#thm-5",
    note="against SLSQP, four sets",
)
@pytest.mark.parametrize("name", PROJECTIONS)
def test_converges_to_the_constrained_minimiser(name):
    """docs/projection/index.md, eqs. (12)-(13) and Theorem 4: with t = 1/L the method stops at a point with
    G_t = 0, which satisfies the optimality condition (14) and agrees with SLSQP."""
    project, kwargs = PROJECTIONS[name]
    f, q, b, _, lip = _quadratic(seed=10)
    res = projected_gradient_descent(
        f, torch.zeros(4, dtype=torch.float64), project, step_size=1 / lip, tol=1e-10
    )
    assert res.converged
    torch.testing.assert_close(res.x, _slsqp(q, b, kwargs), atol=1e-6, rtol=0)
    # Fixed point: x* = P(x* - t grad f(x*)) up to tol * t.
    grad = q @ res.x - b
    torch.testing.assert_close(project(res.x - grad / lip), res.x, atol=1e-9, rtol=0)


@pytest.mark.claim("projection/index.md#eq-14", "projection/index.md#thm-5")
def test_stationarity_inequality_at_the_solution():
    """docs/projection/index.md, eq. (14): <grad f(x*), z - x*> >= 0 for feasible z at the PGD limit."""
    f, q, b, _, lip = _quadratic(seed=11)
    res = projected_gradient_descent(
        f, torch.zeros(4, dtype=torch.float64), project_simplex, step_size=1 / lip, tol=1e-12
    )
    e = -torch.log(torch.rand(200, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    z = e / e.sum(-1, keepdim=True)
    assert float(((z - res.x) @ (q @ res.x - b)).min()) >= -1e-9


@pytest.mark.claim("projection/index.md#eq-12", note=r"with $f = \frac12\|x - c\|^2$")
def test_one_step_for_the_distance_objective():
    """docs/projection/index.md, eq. (12): for f = 1/2 ||x - c||^2 (L = 1), one step with t = 1
    lands on P(c)."""
    c = torch.tensor([[2.0, -1.0, 0.3], [0.1, 0.2, 0.3]], dtype=torch.float64)
    res = projected_gradient_descent(
        lambda x: 0.5 * ((x - c) ** 2).sum(), torch.zeros_like(c), project_simplex, step_size=1.0, tol=1e-12
    )
    assert res.num_steps == 1 and res.converged
    torch.testing.assert_close(res.x, project_simplex(c), atol=1e-15, rtol=0)


@pytest.mark.claim("projection/index.md#eq-15", "projection/index.md#thm-6", note="for a non-convex $f$")
def test_sufficient_decrease_nonconvex():
    """docs/projection/index.md, eq. (15): f(x_{k+1}) <= f(x_k) - t/2 ||G_t(x_k)||^2 for t <= 1/L,
    here with a nonconvex f.

    f(x) = sum sin(3 x_i) + 1/2 ||x||^2 has Hessian diag(1 - 9 sin(3 x_i)), so L = 10.
    """

    def f(x):
        return torch.sin(3 * x).sum() + 0.5 * (x * x).sum()

    x0 = torch.tensor([1.9, -0.3, 0.05, 1.0], dtype=torch.float64)
    t = 0.1
    res = projected_gradient_descent(f, x0, lambda x: project_box(x, -2.0, 2.0), step_size=t, tol=1e-10)
    fs, gms = res.f_history, res.gradient_mapping_norms
    assert res.converged and res.num_steps > 5
    assert bool((fs[1:] <= fs[:-1] - 0.5 * t * gms[:-1] ** 2 + 1e-12).all())


@pytest.mark.claim("projection/index.md#eq-16", "projection/index.md#thm-6", note="at every iterate")
def test_sublinear_rate_bound_convex():
    """docs/projection/index.md, eq. (16): f(x_k) - f* <= L ||x_0 - x*||^2 / (2k) for convex f, t = 1/L.

    Q has rank 2 in dimension 4, so f is convex but not strongly convex.
    """
    f, q, b, mu, lip = _quadratic(seed=12, rank=2)
    assert mu < 1e-10
    project = PROJECTIONS["l2_ball"][0]
    x0 = torch.tensor([0.9, -0.4, 0.0, 0.1], dtype=torch.float64)
    ref = projected_gradient_descent(f, x0, project, step_size=1 / lip, tol=1e-13, num_steps=100_000)
    res = projected_gradient_descent(f, x0, project, step_size=1 / lip, tol=0.0, num_steps=200)
    # tol = 0 still stops early if an iterate is an exact fixed point; check every iterate there is.
    gap = res.f_history[1:] - ref.f
    k = torch.arange(1, res.num_steps + 1, dtype=torch.float64)
    assert res.num_steps > 20
    assert bool((gap <= lip * float(((res.x_history[0] - ref.x) ** 2).sum()) / (2 * k) + 1e-12).all())


@pytest.mark.claim(
    "projection/index.md#eq-17",
    "projection/index.md#thm-6",
    note="at every iterate, four sets",
)
@pytest.mark.parametrize("name", PROJECTIONS)
def test_linear_rate_strongly_convex(name):
    """docs/projection/index.md, eq. (17): ||x_k - x*|| <= (1 - mu/L)^k ||x_0 - x*|| for mu-strongly
    convex f."""
    project, _ = PROJECTIONS[name]
    f, _, _, mu, lip = _quadratic(seed=13)
    x0 = torch.zeros(4, dtype=torch.float64)
    ref = projected_gradient_descent(f, x0, project, step_size=1 / lip, tol=1e-13, num_steps=100_000)
    res = projected_gradient_descent(f, x0, project, step_size=1 / lip, tol=0.0, num_steps=60)
    dist = torch.linalg.vector_norm(res.x_history - ref.x, dim=-1)
    bound = (1 - mu / lip) ** torch.arange(len(dist), dtype=torch.float64) * dist[0]
    assert bool((dist <= bound + 1e-10).all())


@pytest.mark.claim(
    "projection/index.md#projected-gradient-descent",
    note="the backtracking rule of \"Step sizes\"",
)
def test_backtracking_finds_a_valid_step():
    """docs/projection/index.md, "Step sizes": without step_size, backtracking keeps t_k >= beta/L, is
    non-increasing, gives sufficient decrease (15) and reaches the same minimiser as t = 1/L."""
    f, _, _, _, lip = _quadratic(seed=14)
    f = lambda x, f=f: 3.0 * f(x)  # noqa: E731 -- scale L up to about 30 so that t = 1 is too long
    lip = 3.0 * lip
    x0 = torch.zeros(4, dtype=torch.float64)
    fixed = projected_gradient_descent(f, x0, project_simplex, step_size=1 / lip, tol=1e-11)
    res = projected_gradient_descent(f, x0, project_simplex, tol=1e-11, backtrack_factor=0.5)
    assert res.converged
    torch.testing.assert_close(res.x, fixed.x, atol=1e-9, rtol=0)
    steps = res.step_sizes
    assert float(steps.min()) >= 0.5 / lip and bool((steps[1:] <= steps[:-1]).all())
    assert bool(
        (
            res.f_history[1:]
            <= res.f_history[:-1] - 0.5 * steps[:-1] * res.gradient_mapping_norms[:-1] ** 2 + 1e-12
        ).all()
    )


@pytest.mark.claim("projection/index.md", note="options, edge cases and input checks")
def test_explicit_gradient_and_batched_problems():
    """A user gradient gives the same run as autograd; a batch of independent problems (sum of objectives)
    equals solving each problem alone."""
    c = torch.tensor([[2.0, -1.0, 0.3], [0.1, 0.2, 0.3], [5.0, 5.0, -4.0]], dtype=torch.float64)
    w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)

    def f(x):
        return 0.5 * (w * (x - c) ** 2).sum()

    kw = {"step_size": 1 / 3.0, "tol": 1e-12}
    auto = projected_gradient_descent(f, torch.zeros_like(c), project_l1_ball, **kw)
    manual = projected_gradient_descent(
        f, torch.zeros_like(c), project_l1_ball, grad=lambda x: w * (x - c), **kw
    )
    torch.testing.assert_close(auto.x_history, manual.x_history, atol=1e-14, rtol=0)
    for i in range(3):
        alone = projected_gradient_descent(
            lambda x, i=i: 0.5 * (w * (x - c[i]) ** 2).sum(),
            torch.zeros(3, dtype=torch.float64),
            project_l1_ball,
            **kw,
        )
        torch.testing.assert_close(auto.x[i], alone.x, atol=1e-10, rtol=0)


@pytest.mark.claim("projection/index.md", note="options, edge cases and input checks")
def test_histories_and_options():
    """Histories have K + 1 entries; x_0 is the projected start; record_x=False keeps no iterates."""
    f, _, _, _, lip = _quadratic(seed=15)
    x0 = torch.full((4,), 3.0, dtype=torch.float64)
    res = projected_gradient_descent(f, x0, project_simplex, step_size=1 / lip, num_steps=7, tol=0.0)
    assert res.num_steps == 7 and not res.converged
    assert (
        res.x_history.shape == (8, 4)
        and res.f_history.shape == (8,)
        and res.gradient_mapping_norms.shape == (8,)
    )
    torch.testing.assert_close(res.x_history[0], project_simplex(x0))
    assert res.f == float(f(res.x))
    lean = projected_gradient_descent(
        f, x0, project_simplex, step_size=1 / lip, num_steps=7, tol=0.0, record_x=False
    )
    assert lean.x_history is None and torch.equal(lean.x, res.x)
    zero = projected_gradient_descent(f, x0, project_simplex, step_size=1 / lip, num_steps=0)
    assert zero.num_steps == 0 and torch.equal(zero.x, project_simplex(x0))


@pytest.mark.claim("projection/index.md", note="options, edge cases and input checks")
def test_too_long_step_is_reported():
    """A step far above 2/L makes the iterates blow up: the method stops with a clear error, not NaNs."""
    with pytest.raises(FloatingPointError, match="step size is too large"):
        projected_gradient_descent(
            lambda x: (x * x).sum(), torch.ones(2, dtype=torch.float64), lambda x: x, step_size=10.0
        )


@pytest.mark.claim("projection/index.md", note="options, edge cases and input checks")
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"step_size": 0.0}, ValueError, "step_size must be positive"),
        ({"step_size": -1.0}, ValueError, "step_size must be positive"),
        ({"num_steps": -1}, ValueError, "num_steps must be an integer >= 0"),
        ({"num_steps": 2.5}, TypeError, "num_steps must be an integer >= 0"),
        ({"tol": -1e-3}, ValueError, "tol must be non-negative"),
        ({"backtrack_factor": 1.0}, ValueError, "backtrack_factor must lie strictly between 0 and 1"),
        ({"x0": torch.zeros(2, dtype=torch.long)}, TypeError, "x0 must be a floating-point"),
        ({"x0": torch.tensor([0.0, float("nan")])}, ValueError, "x0 must be finite"),
        ({"f": lambda x: x}, ValueError, r"f\(x\) must return a scalar"),
        ({"f": 3.0}, TypeError, "f must be callable"),
        ({"project": lambda x: x[:1]}, ValueError, r"project\(x\) must return a tensor of x's shape"),
        ({"grad": lambda x: x[:1]}, ValueError, r"grad\(x\) must return a tensor of x's shape"),
        ({"grad": "no"}, TypeError, "grad must be callable"),
    ],
)
def test_errors_name_the_argument(kwargs, exc, match):
    """Bad input raises a clear error naming the argument and the expected form."""
    args = {"f": lambda x: (x * x).sum(), "x0": torch.zeros(2), "project": lambda x: x, "step_size": 0.5}
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        projected_gradient_descent(args.pop("f"), args.pop("x0"), args.pop("project"), **args)


@pytest.mark.claim("projection/index.md", note="options, edge cases and input checks")
def test_constant_objective_stops_at_once():
    """A constant f has zero gradient: the projected start is already a fixed point (G_t = 0)."""
    res = projected_gradient_descent(
        lambda x: torch.tensor(1.0), torch.ones(3), project_simplex, step_size=1.0
    )
    assert res.converged and res.num_steps == 0
    torch.testing.assert_close(res.x, torch.full((3,), 1 / 3))
