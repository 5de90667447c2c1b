"""Conditioner networks for coupling layers; the last layer starts at zero so each coupling starts as
the identity (Glow's initialisation), which keeps deep flows well conditioned at the start of training."""

from __future__ import annotations

from torch import nn

from dnnf._validation import check_positive_int

__all__ = ["mlp", "conv_net"]


def _zero(layer: nn.Module) -> nn.Module:
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def mlp(
    in_features: int,
    out_features: int,
    hidden: int = 256,
    num_hidden_layers: int = 2,
    identity_init: bool = True,
) -> nn.Sequential:
    """Return ``Linear -> ReLU -> ... -> Linear`` with ``num_hidden_layers`` hidden layers of width
    ``hidden``; the output layer is zero-initialised when ``identity_init`` (PyTorch's default init
    otherwise).

    Examples
    --------
    With ``identity_init`` the output starts at zero, so a coupling built on it starts as the identity:

    >>> import torch
    >>> from dnnf.flows import mlp
    >>> net = mlp(3, 2, hidden=8)
    >>> net(torch.ones(5, 3)).abs().sum().item(), len(net)
    (0.0, 5)
    """
    for name, v in [("in_features", in_features), ("out_features", out_features), ("hidden", hidden)]:
        check_positive_int(name, v)
    check_positive_int("num_hidden_layers", num_hidden_layers)
    layers: list[nn.Module] = [nn.Linear(in_features, hidden), nn.ReLU()]
    for _ in range(num_hidden_layers - 1):
        layers += [nn.Linear(hidden, hidden), nn.ReLU()]
    out = nn.Linear(hidden, out_features)
    layers.append(_zero(out) if identity_init else out)
    return nn.Sequential(*layers)


def conv_net(
    in_channels: int, out_channels: int, hidden: int = 64, identity_init: bool = True
) -> nn.Sequential:
    """Return Glow's coupling network ``Conv3x3 -> ReLU -> Conv1x1 -> ReLU -> Conv3x3`` with padding that
    keeps the spatial size; the output layer is zero-initialised when ``identity_init``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import conv_net
    >>> net = conv_net(2, 4, hidden=8)
    >>> out = net(torch.ones(1, 2, 5, 5))
    >>> out.shape, out.abs().sum().item()
    (torch.Size([1, 4, 5, 5]), 0.0)
    """
    for name, v in [("in_channels", in_channels), ("out_channels", out_channels), ("hidden", hidden)]:
        check_positive_int(name, v)
    out = nn.Conv2d(hidden, out_channels, 3, padding=1)
    return nn.Sequential(
        nn.Conv2d(in_channels, hidden, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(hidden, hidden, 1),
        nn.ReLU(),
        _zero(out) if identity_init else out,
    )
