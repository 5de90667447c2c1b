r"""Normalizing flows: invertible layers with exact log-determinants, and models built from them.

A flow is a [`Flow`][dnnf.flows.Flow] (``forward(x) -> (y, logdet)``, exact ``inverse``); a density model is a
[`NormalizingFlow`][dnnf.flows.NormalizingFlow] $= $ flow $+$ base distribution, with
$\log p_X(x) = \log p_Z(f(x)) + \log|\det J_f(x)|$. The book's pages *Normalizing flows* and
*Log-determinants* derive every formula here; ``tests/test_flows_*.py`` check them against autograd.
"""

from .actnorm import ActNorm
from .base import Compose, Flow, NormalizingFlow
from .conditional import ConditionalConv1x1Coupling
from .conv1x1 import (
    InvertibleConv1x1,
    InvertibleConv1x1LU,
    plu_inverse_weight,
    plu_weight,
    random_orthogonal,
)
from .coupling import AdditiveCoupling, AffineCoupling
from .distributions import StandardLogistic, StandardNormal
from .jacobians import density_grid_2d, jacobian, jacobian_logabsdet
from .metrics import bits_per_dim, importance_weighted_bits_per_dim
from .models import MODELS, build_model, flow_2d, glow_mnist, nice_mnist
from .nets import conv_net, mlp
from .preprocess import LogitTransform
from .reshape import Flatten, Split, Squeeze, Unsqueeze

__all__ = [
    "Flow",
    "Compose",
    "NormalizingFlow",
    "StandardNormal",
    "StandardLogistic",
    "ActNorm",
    "InvertibleConv1x1",
    "InvertibleConv1x1LU",
    "plu_weight",
    "plu_inverse_weight",
    "random_orthogonal",
    "AdditiveCoupling",
    "AffineCoupling",
    "ConditionalConv1x1Coupling",
    "Squeeze",
    "Unsqueeze",
    "Flatten",
    "Split",
    "LogitTransform",
    "mlp",
    "conv_net",
    "nice_mnist",
    "glow_mnist",
    "flow_2d",
    "build_model",
    "MODELS",
    "bits_per_dim",
    "importance_weighted_bits_per_dim",
    "jacobian",
    "jacobian_logabsdet",
    "density_grid_2d",
]
