r"""Euclidean projections onto simple closed convex sets, one function per set.

For a non-empty closed convex set $C \subseteq \mathbb{R}^n$ the Euclidean projection

$$
\Pi_C(y) = \operatorname*{arg\,min}_{x \in C} \tfrac12 \|x - y\|_2^2
$$

exists and is unique. Every function here is batched: the box acts elementwise on a tensor of any shape;
the balls and the simplex act on the last dimension and treat the leading dimensions as a batch. All are
built from differentiable torch operations, so autograd gives the (almost everywhere defined) Jacobian.
"""

from __future__ import annotations

import torch

from dnnf._validation import check_finite, check_positive

__all__ = ["project_box", "project_l1_ball", "project_l2_ball", "project_simplex"]


def _check_input(name: str, y: torch.Tensor, *, min_dim: int = 0) -> None:
    """Check that ``y`` is a finite floating-point tensor with at least ``min_dim`` dimensions."""
    if not torch.is_tensor(y):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(y).__name__}")
    if not torch.is_floating_point(y):
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {y.dtype}")
    if y.dim() < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} dimension(s) (the set acts on the last one)")
    if min_dim >= 1 and y.shape[-1] == 0:
        raise ValueError(f"{name} must have an entry in its last dimension, got shape {tuple(y.shape)}")
    check_finite(name, y)


def _as_bound(name: str, value: float | torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Return ``value`` as a tensor on ``y``'s dtype and device, checking it broadcasts to ``y.shape``.

    Infinite bounds are allowed (a half-space or the whole line in that coordinate); NaN is not.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, torch.Tensor)):
        raise TypeError(f"{name} must be a float or a torch.Tensor, got {type(value).__name__}")
    bound = (
        value.to(dtype=y.dtype, device=y.device)
        if torch.is_tensor(value)
        else torch.tensor(float(value), dtype=y.dtype, device=y.device)
    )
    if bool(torch.isnan(bound).any()):
        raise ValueError(f"{name} must not contain NaN")
    # lower = +inf or upper = -inf leaves no real point in the box (clamp would return the infinity)
    if name == "lower" and bool((bound == torch.inf).any()):
        raise ValueError("lower must be < +inf everywhere (the box would be empty), got +inf")
    if name == "upper" and bool((bound == -torch.inf).any()):
        raise ValueError("upper must be > -inf everywhere (the box would be empty), got -inf")
    try:
        shape = torch.broadcast_shapes(bound.shape, y.shape)
    except RuntimeError:
        shape = None
    if shape != y.shape:
        raise ValueError(
            f"{name} must be a float or a tensor broadcastable to y's shape {tuple(y.shape)}, "
            f"got shape {tuple(bound.shape)}"
        )
    return bound


def project_box(y: torch.Tensor, lower: float | torch.Tensor, upper: float | torch.Tensor) -> torch.Tensor:
    r"""Project onto the box $C = \{x : \ell \le x \le u\}$ (elementwise bounds), coordinate by coordinate:

    $$
    \Pi_C(y)_i = \min\{\max\{y_i, \ell_i\}, u_i\}.
    $$

    Equal bounds $\ell_i = u_i$ fix a coordinate (the inpainting constraint is such a box). Derivation:
    [Boxes: separability][boxes-separability].

    Parameters
    ----------
    y : torch.Tensor
        Points to project, any shape, floating point, finite.
    lower, upper : float or torch.Tensor
        Bounds $\ell$ and $u$: floats, or tensors broadcastable to ``y.shape``, with $\ell \le u$
        everywhere. Infinite bounds are allowed (e.g. ``upper=float("inf")`` for the orthant).

    Returns
    -------
    torch.Tensor
        $\Pi_C(y)$, same shape, dtype and device as ``y``. Differentiable in ``y`` (Jacobian: the
        indicator of $\ell_i < y_i < u_i$ on the diagonal) and in tensor bounds.

    Raises
    ------
    TypeError
        If ``y`` is not a floating-point tensor or a bound is neither a float nor a tensor.
    ValueError
        If ``y`` is not finite, a bound is NaN or not broadcastable to ``y``, or ``lower > upper``
        somewhere.

    Examples
    --------
    >>> import torch
    >>> from dnnf.projection import project_box
    >>> project_box(torch.tensor([-1.0, 0.25, 2.0]), 0.0, 1.0).tolist()
    [0.0, 0.25, 1.0]

    Equal bounds fix a coordinate: the set $\{0.5\} \times [0, 1]$.

    >>> project_box(torch.tensor([3.0, -2.0]), torch.tensor([0.5, 0.0]), torch.tensor([0.5, 1.0])).tolist()
    [0.5, 0.0]
    """
    _check_input("y", y)
    lo = _as_bound("lower", lower, y)
    hi = _as_bound("upper", upper, y)
    if bool((lo > hi).any()):
        raise ValueError("lower must be <= upper elementwise (the box would be empty)")
    return torch.clamp(y, min=lo, max=hi)


def project_l2_ball(y: torch.Tensor, radius: float = 1.0, center: torch.Tensor | None = None) -> torch.Tensor:
    r"""Project onto the Euclidean ball $C = \{x : \|x - c\|_2 \le r\}$ along the last dimension.

    $$
    \Pi_C(y) = c + \frac{r}{\max\{\|y - c\|_2,\ r\}}\,(y - c).
    $$

    Derivation: [The Euclidean ball][the-euclidean-ball].

    Parameters
    ----------
    y : torch.Tensor
        Points of shape ``(..., n)``, floating point, finite.
    radius : float, default 1.0
        $r \ge 0$; $r = 0$ gives the single point $c$.
    center : torch.Tensor, optional
        $c$, a tensor broadcastable to ``y.shape`` (e.g. shape ``(n,)``); the origin when omitted.

    Returns
    -------
    torch.Tensor
        $\Pi_C(y)$, same shape as ``y``. Differentiable in ``y`` away from the sphere (at the centre too).

    Raises
    ------
    TypeError
        If ``y`` or ``center`` is not a floating-point tensor.
    ValueError
        If ``y`` is 0-dimensional or not finite, ``radius`` is negative or NaN, or ``center`` is not
        finite or not broadcastable to ``y``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.projection import project_l2_ball
    >>> x = project_l2_ball(torch.tensor([3.0, 4.0]), radius=2.0)  # pulled onto the sphere
    >>> [round(v, 4) for v in x.tolist()], round(float(x.norm()), 4)
    ([1.2, 1.6], 2.0)
    >>> project_l2_ball(torch.tensor([0.5, -0.25])).tolist()  # inside: unchanged
    [0.5, -0.25]
    """
    _check_input("y", y, min_dim=1)
    r = check_positive("radius", radius, allow_zero=True)
    if center is None:
        c = torch.zeros((), dtype=y.dtype, device=y.device)
    else:
        _check_input("center", center)
        c = _as_bound("center", center, y)
    if r == 0.0:
        # The ball is the point c; the general formula would divide 0 by 0 at y = c.
        return c.expand(y.shape) + 0.0 * y
    d = y - c
    norm = torch.linalg.vector_norm(d, dim=-1, keepdim=True)
    # r / max(norm, r) is exactly 1 inside the ball, so its gradient there is zero even at norm = 0.
    return c + d * (r / torch.clamp(norm, min=r))


def project_simplex(y: torch.Tensor, total: float = 1.0) -> torch.Tensor:
    r"""Project onto the simplex $\Delta_s = \{x : x_i \ge 0,\ \sum_i x_i = s\}$ along the last dimension.

    $\Pi_{\Delta_s}(y)_i = \max\{y_i - \tau, 0\}$, with the threshold $\tau$ found in $O(n \log n)$ by
    sorting (Held, Wolfe and Crowder 1974; Duchi et al. 2008). Derivation:
    [The simplex, via the KKT conditions][the-simplex-via-the-kkt-conditions].

    Parameters
    ----------
    y : torch.Tensor
        Points of shape ``(..., n)``, floating point, finite.
    total : float, default 1.0
        $s > 0$, the sum of the entries.

    Returns
    -------
    torch.Tensor
        $\Pi_{\Delta_s}(y)$, same shape as ``y``. Differentiable almost everywhere: on the support $S$
        the Jacobian is $I - \tfrac{1}{|S|}\mathbf 1 \mathbf 1^\top$, and zero off it.

    Raises
    ------
    TypeError
        If ``y`` is not a floating-point tensor.
    ValueError
        If ``y`` is 0-dimensional or not finite, or ``total`` is not positive.

    Examples
    --------
    >>> import torch
    >>> from dnnf.projection import project_simplex
    >>> x = project_simplex(torch.tensor([0.5, 1.5, -1.0], dtype=torch.float64))
    >>> x.tolist(), float(x.sum())
    ([0.0, 1.0, 0.0], 1.0)
    >>> project_simplex(torch.tensor([0.5, 1.0])).tolist()  # threshold tau = 0.25
    [0.25, 0.75]
    """
    _check_input("y", y, min_dim=1)
    s = check_positive("total", total)
    u, _ = torch.sort(y, dim=-1, descending=True)
    excess = torch.cumsum(u, dim=-1) - s
    k = torch.arange(1, y.shape[-1] + 1, dtype=y.dtype, device=y.device)
    active = u - excess / k > 0
    # The active set is a prefix in exact arithmetic; taking its last index rather than its count keeps
    # rho right even if rounding breaks the prefix. k = 1 is always active (u_1 - (u_1 - s) = s > 0).
    # clamp: k = 1 is active in exact arithmetic, but u_1 - (u_1 - s) rounds to 0 when |u_1| >> s
    rho = torch.where(active, k, torch.zeros_like(k)).amax(dim=-1, keepdim=True).clamp_min(1)
    tau = torch.gather(excess, -1, rho.long() - 1) / rho
    return torch.clamp(y - tau, min=0.0)


def project_l1_ball(y: torch.Tensor, radius: float = 1.0) -> torch.Tensor:
    r"""Project onto the $\ell_1$ ball $C = \{x : \|x\|_1 \le r\}$ along the last dimension.

    $$
    \Pi_C(y) = \operatorname{sign}(y) \odot \max\{|y| - \tau, 0\} \quad \text{if } \|y\|_1 > r,
    $$

    with $\tau > 0$ the simplex threshold of $|y|$ and total $r$ (see
    [`project_simplex`][dnnf.projection.project_simplex]); $\Pi_C(y) = y$ inside the ball. Derivation:
    [The l1 ball][the-l1-ball].

    Parameters
    ----------
    y : torch.Tensor
        Points of shape ``(..., n)``, floating point, finite.
    radius : float, default 1.0
        $r \ge 0$; $r = 0$ gives the origin.

    Returns
    -------
    torch.Tensor
        $\Pi_C(y)$, same shape as ``y``. Differentiable almost everywhere.

    Raises
    ------
    TypeError
        If ``y`` is not a floating-point tensor.
    ValueError
        If ``y`` is 0-dimensional or not finite, or ``radius`` is negative or NaN.

    Examples
    --------
    >>> import torch
    >>> from dnnf.projection import project_l1_ball
    >>> x = project_l1_ball(torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64), radius=1.0)
    >>> x.tolist(), float(x.abs().sum())
    ([1.0, -0.0, 0.0], 1.0)
    >>> project_l1_ball(torch.tensor([1.0, -1.0], dtype=torch.float64), radius=1.0).tolist()
    [0.5, -0.5]
    """
    _check_input("y", y, min_dim=1)
    r = check_positive("radius", radius, allow_zero=True)
    if r == 0.0:
        return 0.0 * y
    inside = torch.linalg.vector_norm(y, ord=1, dim=-1, keepdim=True) <= r
    outside = torch.sign(y) * project_simplex(y.abs(), total=r)
    return torch.where(inside, y, outside)
