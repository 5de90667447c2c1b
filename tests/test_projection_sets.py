"""Checks of the projections in ``dnnf.projection.sets`` against docs/projection/index.md.

References are independent of the code under test: scipy's SLSQP on the defining minimisation,
Brent root-finding for the simplex threshold, and a brute-force grid for the segment {a} x [0, 1].
Property tests run in float64 with absolute tolerances of ``1e-9`` (exact arithmetic gives 0; the
algorithms use O(n) additions of numbers of size <= 100, so rounding stays many orders below that).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize

from dnnf.projection import project_box, project_l1_ball, project_l2_ball, project_simplex

ATOL = 1e-9
FAST = settings(max_examples=40, deadline=None)


@st.composite
def batches(draw: st.DrawFn, max_n: int = 6) -> torch.Tensor:
    """A float64 tensor of shape (b, n) with entries in [-10, 10], ties and zeros included."""
    b = draw(st.integers(1, 4))
    n = draw(st.integers(1, max_n))
    values = draw(
        st.lists(
            st.one_of(st.floats(-10, 10, allow_nan=False), st.sampled_from([0.0, 0.5, -1.0, 1.0])),
            min_size=b * n,
            max_size=b * n,
        )
    )
    return torch.tensor(values, dtype=torch.float64).reshape(b, n)


# Each set: the projection, a membership test and a sampler of feasible points that does not use the
# projection (so the variational-inequality test is not circular).
def _box(y):
    return project_box(y, -1.0, torch.linspace(-0.5, 2.0, y.shape[-1], dtype=y.dtype))


def _box_member(x):
    upper = torch.linspace(-0.5, 2.0, x.shape[-1], dtype=x.dtype)
    return bool(((x >= -1.0 - ATOL) & (x <= upper + ATOL)).all())


def _box_sample(shape, gen):
    upper = torch.linspace(-0.5, 2.0, shape[-1], dtype=torch.float64)
    return -1.0 + torch.rand(shape, generator=gen, dtype=torch.float64) * (upper + 1.0)


def _l2(y):
    return project_l2_ball(y, radius=2.0, center=torch.full((y.shape[-1],), 0.5, dtype=y.dtype))


def _l2_member(x):
    return bool((torch.linalg.vector_norm(x - 0.5, dim=-1) <= 2.0 + ATOL).all())


def _l2_sample(shape, gen):
    z = torch.randn(shape, generator=gen, dtype=torch.float64)
    u = torch.rand(shape[:-1] + (1,), generator=gen, dtype=torch.float64)
    return 0.5 + 2.0 * u * z / torch.linalg.vector_norm(z, dim=-1, keepdim=True)


def _dirichlet(shape, gen):
    e = -torch.log(torch.rand(shape, generator=gen, dtype=torch.float64))
    return e / e.sum(-1, keepdim=True)


def _simplex(y):
    return project_simplex(y, total=1.5)


def _simplex_member(x):
    return bool((x >= -ATOL).all() and torch.allclose(x.sum(-1), torch.tensor(1.5, dtype=x.dtype)))


def _simplex_sample(shape, gen):
    return 1.5 * _dirichlet(shape, gen)


def _l1(y):
    return project_l1_ball(y, radius=1.5)


def _l1_member(x):
    return bool((x.abs().sum(-1) <= 1.5 + ATOL).all())


def _l1_sample(shape, gen):
    signs = torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0).to(torch.float64)
    u = torch.rand(shape[:-1] + (1,), generator=gen, dtype=torch.float64)
    return 1.5 * u * signs * _dirichlet(shape, gen)


SETS = {
    "box": (_box, _box_member, _box_sample),
    "l2_ball": (_l2, _l2_member, _l2_sample),
    "simplex": (_simplex, _simplex_member, _simplex_sample),
    "l1_ball": (_l1, _l1_member, _l1_sample),
}


@pytest.mark.claim("projection/index.md#eq-1", note="all four sets")
@pytest.mark.parametrize("name", SETS)
@FAST
@given(y=batches())
def test_projection_is_feasible_and_idempotent(name, y):
    """docs/projection/index.md, eq. (1): Pi_C(y) lies in C, and Pi_C(Pi_C(y)) = Pi_C(y)."""
    project, member, _ = SETS[name]
    p = project(y)
    assert p.shape == y.shape and p.dtype == y.dtype
    assert member(p)
    torch.testing.assert_close(project(p), p, atol=ATOL, rtol=0)


@pytest.mark.claim(
    "projection/index.md#thm-3",
    "projection/index.md#eq-4",
    note="with independently sampled feasible points",
)
@pytest.mark.parametrize("name", SETS)
@FAST
@given(y=batches(), seed=st.integers(0, 2**31 - 1))
def test_variational_inequality(name, y, seed):
    """docs/projection/index.md, eq. (4): <y - Pi_C(y), x - Pi_C(y)> <= 0 for every feasible x."""
    project, member, sample = SETS[name]
    gen = torch.Generator().manual_seed(seed)
    xs = sample((32,) + tuple(y.shape), gen)
    assert member(xs)
    p = project(y)
    inner = ((y - p) * (xs - p)).sum(-1)
    assert float(inner.max()) <= 1e-8


@pytest.mark.claim("projection/index.md#thm-4", "projection/index.md#eq-5", "projection/index.md#eq-6")
@pytest.mark.parametrize("name", SETS)
@FAST
@given(y=batches(), z=batches())
def test_firm_nonexpansiveness(name, y, z):
    """docs/projection/index.md, eqs. (5)-(6): ||P y - P z||^2 <= <P y - P z, y - z> <= ||y - z||^2."""
    project, _, _ = SETS[name]
    n = min(y.shape[-1], z.shape[-1])
    b = min(y.shape[0], z.shape[0])
    y, z = y[:b, :n], z[:b, :n]
    dp = project(y) - project(z)
    lhs = (dp * dp).sum(-1)
    mid = (dp * (y - z)).sum(-1)
    assert bool((lhs <= mid + 1e-8).all())
    assert bool((mid <= ((y - z) ** 2).sum(-1) + 1e-8).all())


def _slsqp(y: np.ndarray, name: str) -> np.ndarray:
    """Solve min 1/2 ||x - y||^2 over the set with SLSQP (l1 ball as x = p - q, p, q >= 0)."""
    n = y.size
    opts = {"ftol": 1e-14, "maxiter": 500}
    if name == "l1_ball":
        obj = lambda w: 0.5 * np.sum((w[:n] - w[n:] - y) ** 2)  # noqa: E731
        cons = [{"type": "ineq", "fun": lambda w: 1.5 - w.sum()}]
        w0 = np.zeros(2 * n)
        res = minimize(obj, w0, method="SLSQP", bounds=[(0, None)] * (2 * n), constraints=cons, options=opts)
        return res.x[:n] - res.x[n:]
    obj = lambda x: 0.5 * np.sum((x - y) ** 2)  # noqa: E731
    bounds, cons = None, []
    if name == "box":
        bounds = list(zip([-1.0] * n, np.linspace(-0.5, 2.0, n), strict=True))
    elif name == "l2_ball":
        cons = [{"type": "ineq", "fun": lambda x: 4.0 - np.sum((x - 0.5) ** 2)}]
    elif name == "simplex":
        bounds = [(0, None)] * n
        cons = [{"type": "eq", "fun": lambda x: x.sum() - 1.5}]
    res = minimize(obj, np.full(n, 0.3), method="SLSQP", bounds=bounds, constraints=cons, options=opts)
    return res.x


@pytest.mark.claim(
    "projection/index.md#eq-3",
    "projection/index.md#eq-7",
    "projection/index.md#eq-9",
    "projection/index.md#eq-11",
    note="against scipy's SLSQP on (1)",
)
@pytest.mark.parametrize("name", SETS)
def test_agrees_with_slsqp(name):
    """docs/projection/index.md, eqs. (3), (7), (9), (11): the closed forms solve the minimisation (1)."""
    gen = torch.Generator().manual_seed(0)
    project = SETS[name][0]
    for n in (2, 3, 5):
        y = 3.0 * torch.randn(8, n, generator=gen, dtype=torch.float64)
        p = project(y)
        ref = torch.tensor(np.stack([_slsqp(row.numpy(), name) for row in y]))
        torch.testing.assert_close(p, ref, atol=1e-6, rtol=0)


def _tau_brent(v: np.ndarray, s: float) -> float:
    """Root of tau -> sum(max(v - tau, 0)) - s, decreasing from >= 1 at min v - s - 1 to -s at max v."""
    return brentq(lambda t: np.maximum(v - t, 0).sum() - s, v.min() - s - 1.0, v.max(), xtol=1e-14)


@pytest.mark.claim(
    "projection/index.md#eq-8",
    "projection/index.md#eq-9",
    "projection/index.md#eq-10",
    note="against Brent's method on (9)",
)
@FAST
@given(y=batches(max_n=8), total=st.floats(0.1, 5.0))
def test_simplex_threshold_matches_root_finding(y, total):
    """docs/projection/index.md, eqs. (8)-(10): the sort-based threshold is the root of
    sum max(y - tau, 0) = s."""
    ref = torch.tensor(
        np.stack([np.maximum(row - _tau_brent(row, total), 0) for row in y.numpy()]), dtype=torch.float64
    )
    torch.testing.assert_close(project_simplex(y, total=total), ref, atol=1e-9, rtol=0)


@pytest.mark.claim("projection/index.md#eq-11")
@FAST
@given(y=batches(max_n=8), radius=st.floats(0.1, 5.0))
def test_l1_ball_matches_soft_threshold_root_finding(y, radius):
    """docs/projection/index.md, eq. (11): outside the ball, sign(y) max(|y| - tau, 0) with sum = r."""
    rows = []
    for row in y.numpy():
        if np.abs(row).sum() <= radius:
            rows.append(row)
        else:
            tau = _tau_brent(np.abs(row), radius)
            rows.append(np.sign(row) * np.maximum(np.abs(row) - tau, 0))
    torch.testing.assert_close(
        project_l1_ball(y, radius=radius), torch.tensor(np.stack(rows)), atol=1e-9, rtol=0
    )


@pytest.mark.claim(
    "projection/index.md#eq-3",
    "projection/index.md#lemma-2",
    note=r"the homework's set $\{a\} \times [0, 1]$ against a brute-force grid",
)
@pytest.mark.parametrize("a", [-2.0, 0.0, 0.7])
def test_segment_is_a_box_with_equal_bounds(a):
    """docs/projection/index.md, eq. (3): for C = {a} x [0, 1], Pi_C(y) = (a, min(max(y2, 0), 1)).

    Also checked against a brute-force grid over the segment C (spacing 1e-4).
    """
    y = torch.tensor([[5.0, -0.3], [-1.0, 0.4], [0.0, 1.7], [a, 1.0]], dtype=torch.float64)
    p = project_box(
        y, torch.tensor([a, 0.0], dtype=torch.float64), torch.tensor([a, 1.0], dtype=torch.float64)
    )
    expected = torch.stack([torch.full((4,), a, dtype=torch.float64), y[:, 1].clamp(0, 1)], dim=-1)
    assert torch.equal(p, expected)
    grid = torch.stack([torch.full((10001,), a), torch.linspace(0, 1, 10001)], -1).double()
    brute = grid[torch.cdist(y, grid).argmin(-1)]
    torch.testing.assert_close(p, brute, atol=1e-4, rtol=0)


@pytest.mark.claim("projection/index.md#eq-3", note="per-entry and infinite bounds")
def test_box_with_per_entry_bounds_and_infinite_bounds():
    """docs/projection/index.md, eq. (3): tensor bounds broadcast; infinite bounds give half-lines."""
    y = torch.tensor([[-3.0, 0.2, 9.0], [0.5, -0.5, 0.1]])
    lower = torch.tensor([0.0, 0.2, -float("inf")])
    upper = torch.tensor([[1.0], [float("inf")]])
    expected = torch.tensor([[0.0, 0.2, 1.0], [0.5, 0.2, 0.1]])
    assert torch.equal(project_box(y, lower, upper), expected)
    assert torch.equal(project_box(y, 0.0, float("inf")), y.clamp(min=0))


@pytest.mark.claim("projection/index.md", note="batches, dtypes and input checks")
@pytest.mark.parametrize("name", SETS)
def test_batched_equals_loop(name):
    """Batching: projecting a (2, 3, n) batch equals projecting each row on its own."""
    project = SETS[name][0]
    y = 2.0 * torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    looped = torch.stack([torch.stack([project(row[None])[0] for row in block]) for block in y])
    torch.testing.assert_close(project(y), looped, atol=1e-12, rtol=0)


@pytest.mark.claim(
    "projection/index.md#non-expansiveness",
    note="gradients of the projections against finite differences",
)
@pytest.mark.parametrize("name", SETS)
def test_gradcheck(name):
    """Autograd through each projection matches finite differences (float64, generic points)."""
    project = SETS[name][0]
    y = 2.0 * torch.randn(3, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    assert torch.autograd.gradcheck(project, (y.requires_grad_(),), eps=1e-6, atol=1e-6)


@pytest.mark.claim(
    "projection/index.md#non-expansiveness",
    note="gradients of the projections against finite differences",
)
def test_gradcheck_box_bounds():
    """project_box is differentiable in tensor bounds too (the inpainting chapter may learn them)."""
    gen = torch.Generator().manual_seed(3)
    y = 2.0 * torch.randn(5, generator=gen, dtype=torch.float64)
    lo = (-torch.rand(5, generator=gen, dtype=torch.float64)).requires_grad_()
    hi = torch.rand(5, generator=gen, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b, c: project_box(a, b, c), (y.requires_grad_(), lo, hi))


@pytest.mark.claim("projection/index.md#eq-10", "projection/index.md#ex-4", note="the Jacobian")
def test_simplex_jacobian_closed_form():
    """docs/projection/index.md, eq. (10): on the support S the Jacobian is I - 11^T/|S|, zero elsewhere."""
    y = torch.tensor([0.9, 0.1, 0.6, -2.0, 0.4], dtype=torch.float64)
    p = project_simplex(y)
    support = p > 0
    k = int(support.sum())
    assert k == 3
    expected_p = torch.tensor([0.6, 0.0, 0.3, 0.0, 0.1], dtype=torch.float64)  # Exercise 4 of the page
    torch.testing.assert_close(p, expected_p, atol=1e-15, rtol=0)
    jac = torch.autograd.functional.jacobian(project_simplex, y)
    expected = torch.zeros(5, 5, dtype=torch.float64)
    idx = support.nonzero().flatten()
    expected[idx.unsqueeze(1), idx] = torch.eye(k, dtype=torch.float64) - 1.0 / k
    torch.testing.assert_close(jac, expected, atol=1e-12, rtol=0)


@pytest.mark.claim("projection/index.md#eq-7", note="at $y = c$ and $r = 0$")
def test_l2_ball_gradient_is_finite_at_the_center_and_radius_zero():
    """The l2-ball formula (7) has no 0/0: gradients at y = c are the identity; r = 0 gives the point c."""
    c = torch.tensor([1.0, -1.0], dtype=torch.float64)
    y = c.clone().requires_grad_()
    jac = torch.autograd.functional.jacobian(lambda v: project_l2_ball(v, 1.0, c), y)
    torch.testing.assert_close(jac, torch.eye(2, dtype=torch.float64))
    assert torch.equal(project_l2_ball(torch.randn(3, 2, dtype=torch.float64), 0.0, c), c.expand(3, 2))
    assert torch.equal(project_l1_ball(torch.ones(2, 3), 0.0), torch.zeros(2, 3))


@pytest.mark.claim("projection/index.md", note="batches, dtypes and input checks")
def test_float32_and_shapes_preserved():
    """Outputs keep dtype and shape, including a single vector (no batch dimension)."""
    y = torch.tensor([3.0, -1.0, 0.5])
    for out in (project_box(y, 0.0, 1.0), project_l2_ball(y), project_simplex(y), project_l1_ball(y)):
        assert out.dtype == torch.float32 and out.shape == (3,)
    torch.testing.assert_close(project_simplex(y), torch.tensor([1.0, 0.0, 0.0]))


@pytest.mark.claim("projection/index.md", note="batches, dtypes and input checks")
@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: project_box(torch.zeros(3), 1.0, 0.0), ValueError, "lower must be <= upper"),
        (lambda: project_box(torch.zeros(3), torch.zeros(4), 1.0), ValueError, "lower must be"),
        (lambda: project_box(torch.zeros(3), 0.0, torch.zeros(2, 3)), ValueError, "upper must be"),
        (lambda: project_box(torch.zeros(3), float("nan"), 1.0), ValueError, "lower must not contain NaN"),
        (lambda: project_box(torch.tensor([0.0, float("nan")]), 0.0, 1.0), ValueError, "y must be finite"),
        (lambda: project_box(torch.zeros(3, dtype=torch.long), 0.0, 1.0), TypeError, "floating-point"),
        (lambda: project_box([0.0, 1.0], 0.0, 1.0), TypeError, "y must be a torch.Tensor"),
        (lambda: project_box(torch.zeros(3), "0", 1.0), TypeError, "lower must be a float"),
        (lambda: project_l2_ball(torch.zeros(3), radius=-1.0), ValueError, "radius must be non-negative"),
        (lambda: project_l2_ball(torch.zeros(3), center=torch.zeros(4)), ValueError, "center must be"),
        (lambda: project_l2_ball(torch.tensor(1.0)), ValueError, "at least 1 dimension"),
        (lambda: project_l1_ball(torch.zeros(3), radius=float("nan")), ValueError, "radius must be"),
        (lambda: project_simplex(torch.zeros(3), total=0.0), ValueError, "total must be positive"),
        (lambda: project_simplex(torch.tensor([float("inf"), 0.0])), ValueError, "y must be finite"),
    ],
)
def test_errors_name_the_argument(call, exc, match):
    """Bad input raises a clear error naming the argument and the expected form."""
    with pytest.raises(exc, match=match):
        call()
