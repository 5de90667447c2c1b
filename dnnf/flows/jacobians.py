r"""Brute-force references for the flows: the full autograd Jacobian's log-determinant, and a 2-D
density on a grid (to check that it integrates to 1).

For a flow $f$ on $\mathbb{R}^D$ (after flattening) the reference is

$$
\log\left|\det \frac{\partial\, \mathrm{vec}\, f(x)}{\partial\, \mathrm{vec}\, x}\right|,
$$

computed from the $D \times D$ Jacobian built by reverse-mode autograd (`torch.func.jacrev`) and
`torch.linalg.slogdet`. It costs $O(D)$ backward passes and $O(D^3)$ for the determinant, so use
it on small inputs, in float64.
"""

from __future__ import annotations

import torch
from torch import nn

from dnnf._validation import check_int, check_positive

from .base import Flow

__all__ = ["jacobian", "jacobian_logabsdet", "density_grid_2d"]


def _check_flow_input(flow: Flow, x: torch.Tensor) -> None:
    if not isinstance(flow, Flow):
        raise TypeError(f"flow must be a dnnf.flows.Flow, got {type(flow).__name__}")
    if not torch.is_tensor(x) or x.dim() < 2:
        raise ValueError("x must be a tensor of shape (batch, ...)")


def jacobian(flow: Flow, x: torch.Tensor) -> torch.Tensor:
    r"""The Jacobians $\partial\,\mathrm{vec} f(x_b) / \partial\,\mathrm{vec}\, x_b$ (``(B, D_out, D_in)``).

    Flattening is row-major (``torch.flatten``). One plain forward pass runs first so that layers with
    data-dependent initialisation (ActNorm) initialise outside the autograd transform. The result does
    not track gradients with respect to the flow's parameters (it is a reference value).

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import InvertibleConv1x1, jacobian
    >>> layer = InvertibleConv1x1(2, weight=torch.tensor([[2.0, 1.0], [0.0, 3.0]]))
    >>> jacobian(layer, torch.zeros(1, 2, 1, 1))[0].tolist()  # a 1x1 convolution on one pixel is A
    [[2.0, 1.0], [0.0, 3.0]]
    """
    _check_flow_input(flow, x)
    with torch.no_grad():
        flow(x)
    shape = x.shape[1:]

    def f(v: torch.Tensor) -> torch.Tensor:
        return flow(v.reshape(1, *shape))[0].reshape(-1)

    # torch.func.jacrev differentiates through an outer no_grad (which only stops parameter tracking)
    with torch.no_grad():
        return torch.stack([torch.func.jacrev(f)(xb.reshape(-1)) for xb in x])


def jacobian_logabsdet(flow: Flow, x: torch.Tensor) -> torch.Tensor:
    r"""Return $\log|\det J_f(x_b)|$ for each sample from the full autograd Jacobian, shape ``(B,)``.

    Examples
    --------
    >>> import math, torch
    >>> from dnnf.flows import InvertibleConv1x1, jacobian_logabsdet
    >>> weight = torch.tensor([[2.0, 1.0], [0.0, 3.0]], dtype=torch.float64)
    >>> layer = InvertibleConv1x1(2, weight=weight).double()
    >>> x = torch.zeros(1, 2, 2, 2, dtype=torch.float64)
    >>> round(jacobian_logabsdet(layer, x).item(), 6) == round(4 * math.log(6.0), 6)  # H W log|det A|
    True
    """
    jac = jacobian(flow, x)
    if jac.shape[-1] != jac.shape[-2]:
        raise ValueError(
            f"the flow changes the number of dimensions: Jacobian of shape {tuple(jac.shape[1:])}"
        )
    return torch.linalg.slogdet(jac)[1]


@torch.no_grad()
def density_grid_2d(
    model: nn.Module, lim: float = 4.0, num_points: int = 201
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Evaluate a 2-D model's density $p(x, y) = \exp(\log p)$ on the square $[-\ell, \ell]^2$.

    Parameters
    ----------
    model : nn.Module
        Has ``log_prob`` taking ``(N, 2)`` points, e.g. [`flow_2d`][dnnf.flows.flow_2d].
    lim : float
        $\ell$, the half-width of the square.
    num_points : int
        Grid points per axis.

    Returns
    -------
    xs, ys, density : Tensor
        The axes (``(num_points,)`` each) and ``density[i, j]`` $= p(x_i, y_j)$.

    Examples
    --------
    The density of a 2-D flow integrates to 1 (Riemann sum on a grid wide enough):

    >>> from dnnf.flows import density_grid_2d, flow_2d
    >>> xs, ys, density = density_grid_2d(flow_2d(init_scale=1.0), lim=8.0, num_points=201)
    >>> step = float(xs[1] - xs[0])
    >>> density.shape, round(float(density.sum()) * step * step, 2)
    (torch.Size([201, 201]), 1.0)
    """
    if not hasattr(model, "log_prob"):
        raise TypeError("model must have a log_prob method")
    lim = check_positive("lim", lim)
    num_points = check_int("num_points", num_points, minimum=2, maximum=2**12)
    ref = next(model.parameters(), None)
    dtype = ref.dtype if ref is not None else torch.get_default_dtype()
    device = ref.device if ref is not None else None
    axis = torch.linspace(-lim, lim, num_points, dtype=dtype, device=device)
    gx, gy = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    density = model.log_prob(points).exp().reshape(num_points, num_points)
    return axis, axis, density
