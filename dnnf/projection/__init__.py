r"""Euclidean projections onto convex sets and the projected gradient method.

``sets`` has one function per set (box, $\ell_2$ ball, $\ell_1$ ball, simplex); ``gradient`` has the
projected gradient method that accepts any of them.
"""

from dnnf.projection.gradient import PGDResult, projected_gradient_descent
from dnnf.projection.sets import project_box, project_l1_ball, project_l2_ball, project_simplex

__all__ = [
    "PGDResult",
    "project_box",
    "project_l1_ball",
    "project_l2_ball",
    "project_simplex",
    "projected_gradient_descent",
]
