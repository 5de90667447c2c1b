"""The four claims of docs/flows/log-determinants.md, checked numerically in float64."""

from __future__ import annotations

import pytest
import torch

from dnnf.flows import (
    AffineCoupling,
    ConditionalConv1x1Coupling,
    InvertibleConv1x1,
    InvertibleConv1x1LU,
    conv_net,
    jacobian,
    plu_inverse_weight,
    plu_weight,
)

F64 = torch.float64


def _random_plu(c: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    perm = torch.eye(c, dtype=F64)[torch.randperm(c, generator=g)]
    lower = torch.randn(c, c, generator=g, dtype=F64)
    upper = torch.randn(c, c, generator=g, dtype=F64)
    s = torch.randn(c, generator=g, dtype=F64)
    return perm, lower, upper, s


@pytest.mark.claim(
    "flows/log-determinants.md#prop-a",
    "flows/log-determinants.md#eq-plu",
    note="with permutations of both signs",
)
def test_plu_logabsdet_equals_sum_log_abs_s_for_both_signs_of_det_p():
    """docs/flows/log-determinants.md, equation (PLU): log|det P L (U + diag s)| = sum_i log|s_i|, and
    det P = +1 or -1 (both occur among the seeds; only |det P| = 1 is used). Dense slogdet is the
    reference."""
    signs = set()
    for seed in range(20):
        perm, lower, upper, s = _random_plu(5, seed)
        a = plu_weight(perm, lower, upper, s)
        signs.add(int(torch.linalg.det(perm).round()))
        torch.testing.assert_close(torch.linalg.slogdet(a)[1], s.abs().log().sum(), atol=1e-10, rtol=0)
        # sign(det A) = det P times the signs of s: the reference solution's "det P = 1" gets it wrong
        expected_sign = torch.linalg.det(perm).round() * torch.sign(s).prod()
        assert torch.linalg.slogdet(a)[0] == expected_sign
        torch.testing.assert_close(plu_inverse_weight(perm, lower, upper, s) @ a, torch.eye(5, dtype=F64))
    assert signs == {-1, 1}


def _lu_without_pivoting(m: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Doolittle elimination (no row exchanges): m = L @ U with L unit lower triangular."""
    c = m.shape[0]
    lower, upper = torch.eye(c, dtype=m.dtype), m.clone()
    for k in range(c - 1):
        factors = upper[k + 1 :, k] / upper[k, k]
        lower[k + 1 :, k] = factors
        upper[k + 1 :] -= factors[:, None] * upper[k]
    return lower, upper


@pytest.mark.claim(
    "flows/log-determinants.md#eq-reach",
    note=r"in both directions, and $-I$ out of reach for $P = I$, $\sigma = (+, +)$",
)
def test_plu_reachable_set_is_fixed_by_the_signs_of_the_pivots():
    """docs/flows/log-determinants.md, (REACH): the leading minors of P^T A are the cumulative products of s
    (so their signs are fixed by the layer's sign buffer); conversely any A with those signs is reached
    (Doolittle gives the parameters); and with P = I, signs (+, +), -I (det +1) is out of reach."""
    converse_checked = 0
    for seed in range(10):
        perm, lower, upper, s = _random_plu(5, seed)
        m = perm.T @ plu_weight(perm, lower, upper, s)
        minors = torch.stack([torch.linalg.det(m[:k, :k]) for k in range(1, 6)])
        torch.testing.assert_close(minors, torch.cumprod(s, 0), atol=1e-10, rtol=1e-10)
        # converse: a matrix with those minor signs, refactorised, gives pivots of the same signs
        target = perm @ (
            m + 0.05 * torch.randn(5, 5, dtype=F64, generator=torch.Generator().manual_seed(seed))
        )
        lo, up = _lu_without_pivoting(perm.T @ target)
        pivots = torch.diagonal(up)
        if torch.equal(torch.sign(torch.cumprod(pivots, 0)), torch.sign(minors)):
            torch.testing.assert_close(plu_weight(perm, lo, up, pivots), target, atol=1e-10, rtol=0)
            assert torch.equal(torch.sign(pivots), torch.sign(s))
            converse_checked += 1
    assert converse_checked >= 5
    layer = InvertibleConv1x1LU(2).double()
    layer.permutation.copy_(torch.eye(2, dtype=F64))
    layer.sign_s.copy_(torch.ones(2, dtype=F64))
    minus_i = -torch.eye(2, dtype=F64)
    assert torch.equal(torch.diagonal(_lu_without_pivoting(minus_i)[1]), -torch.ones(2, dtype=F64))
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(200):
            for p in layer.parameters():
                p.copy_(5 * torch.randn(p.shape, generator=g, dtype=F64))
            weight = layer.weight()
            assert weight[0, 0] > 0  # Delta_1 = s_1 > 0, while Delta_1(-I) = -1
            assert (weight - minus_i).abs().max() > 0.5


@pytest.mark.claim(
    "flows/log-determinants.md#eq-plu",
    "flows/log-determinants.md#eq-kron",
    note="the PLU and dense layers agree",
)
def test_plu_layer_agrees_with_dense_layer():
    """docs/flows/log-determinants.md, equations (PLU) and (CONV): the PLU layer and a dense layer with
    the same weight give the same output and the same log-det H W log|det A|."""
    torch.manual_seed(0)
    plu = InvertibleConv1x1LU(6).double()
    with torch.no_grad():
        for p in plu.parameters():
            p.add_(0.3 * torch.randn_like(p))
    dense = InvertibleConv1x1(6, weight=plu.weight().detach()).double()
    x = torch.randn(3, 6, 4, 5, dtype=F64)
    (y1, ld1), (y2, ld2) = plu(x), dense(x)
    torch.testing.assert_close(y1, y2, atol=1e-12, rtol=0)
    torch.testing.assert_close(ld1, ld2, atol=1e-10, rtol=0)
    expected = 20 * torch.linalg.slogdet(plu.weight())[1]
    torch.testing.assert_close(ld1, expected.expand(3), atol=1e-10, rtol=0)


@pytest.mark.claim("flows/log-determinants.md#prop-b", "flows/log-determinants.md#eq-vec")
def test_vectorisation_order_does_not_change_abs_det():
    """docs/flows/log-determinants.md, equation (VEC): for vectorisations v1, v2 related by a permutation
    matrix Q, J_2 = Q J_1 Q^T, so |det J_2| = |det J_1|. Checked for the channel-last order and a random
    order, on an affine coupling whose Jacobian is far from symmetric."""
    torch.manual_seed(0)
    layer = AffineCoupling(conv_net(2, 4, 8, identity_init=False)).double()
    x = torch.randn(1, 4, 3, 3, dtype=F64)
    j_row_major = jacobian(layer, x)[0]
    d = j_row_major.shape[0]
    # channel-last order: index (c, h, w) -> position (h, w, c)
    order_cl = torch.arange(d).reshape(4, 3, 3).permute(1, 2, 0).reshape(-1)
    order_random = torch.randperm(d, generator=torch.Generator().manual_seed(1))
    ref = torch.linalg.slogdet(j_row_major)
    for order in (order_cl, order_random):
        q = torch.eye(d, dtype=F64)[order]
        j_other = j_row_major[order][:, order]
        torch.testing.assert_close(j_other, q @ j_row_major @ q.T, atol=0, rtol=0)
        assert not torch.allclose(j_other, j_row_major)
        torch.testing.assert_close(torch.linalg.slogdet(j_other)[1], ref[1], atol=1e-10, rtol=0)


@pytest.mark.claim(
    "flows/log-determinants.md#prop-c",
    "flows/log-determinants.md#eq-kron",
    note="both Kronecker forms exactly",
)
def test_conv1x1_jacobian_is_kronecker_product():
    """docs/flows/log-determinants.md, equation (KRON): the 1x1 convolution's Jacobian is A (x) I_HW in the
    channel-major (row-major) order and I_HW (x) A in the position-major (channel-last) order; hence
    log|det J| = H W log|det A|."""
    torch.manual_seed(0)
    a = torch.randn(3, 3, dtype=F64)
    layer = InvertibleConv1x1(3, weight=a).double()
    h, w = 2, 4
    x = torch.randn(1, 3, h, w, dtype=F64)
    j = jacobian(layer, x)[0]
    eye = torch.eye(h * w, dtype=F64)
    torch.testing.assert_close(j, torch.kron(a, eye), atol=1e-13, rtol=0)
    order = torch.arange(3 * h * w).reshape(3, h, w).permute(1, 2, 0).reshape(-1)
    torch.testing.assert_close(j[order][:, order], torch.kron(eye, a), atol=1e-13, rtol=0)
    torch.testing.assert_close(
        torch.linalg.slogdet(j)[1], h * w * torch.linalg.slogdet(a)[1], atol=1e-10, rtol=0
    )


@pytest.mark.claim(
    "flows/log-determinants.md#prop-d",
    "flows/log-determinants.md#eq-cond",
    note="block by block",
)
def test_conditional_coupling_jacobian_is_block_lower_triangular():
    """docs/flows/log-determinants.md, equation (COND): for the conditional 1x1-convolution coupling, dZ/dX
    has blocks [[I, 0], [*, A(X_1) (x) I_HW]] in channel-major order, with a non-zero lower-left block, so
    log|det J| = H W sum_i log s_i(X_1)."""
    torch.manual_seed(0)
    layer = ConditionalConv1x1Coupling(6, hidden=8, generator=torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        layer.head.weight.normal_(0, 0.5)
        layer.head.bias.normal_(0, 0.5)
    h, w = 3, 2
    x = torch.randn(1, 6, h, w, dtype=F64)
    j = jacobian(layer, x)[0]
    n = 3 * h * w
    torch.testing.assert_close(j[:n, :n], torch.eye(n, dtype=F64), atol=0, rtol=0)
    torch.testing.assert_close(j[:n, n:], torch.zeros(n, n, dtype=F64), atol=0, rtol=0)
    assert j[n:, :n].abs().max() > 1e-3  # the weights do depend on X_1
    a = layer.weight(x[:, :3])[0]
    torch.testing.assert_close(j[n:, n:], torch.kron(a, torch.eye(h * w, dtype=F64)), atol=1e-12, rtol=0)
    _, log_s = layer.factors(x[:, :3])[1:]
    _, logdet = layer(x)
    torch.testing.assert_close(logdet, h * w * log_s.sum(1), atol=1e-12, rtol=0)
    torch.testing.assert_close(logdet[0], torch.linalg.slogdet(j)[1], atol=1e-10, rtol=0)
