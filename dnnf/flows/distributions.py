r"""Base distributions of the flows: independent standard normal or standard logistic coordinates.

$$
\log \mathcal{N}(z; 0, I) = -\tfrac12 \sum_i z_i^2 - \tfrac{D}{2}\log(2\pi), \qquad
\log \mathrm{Logistic}(z) = -\sum_i \left(\operatorname{softplus}(z_i) + \operatorname{softplus}(-z_i)\right),
$$

where $D$ is the number of coordinates of one event. The logistic is the base of NICE (Dinh et al., 2015).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from dnnf._validation import check_positive_int

__all__ = ["StandardNormal", "StandardLogistic"]


def _as_shape(event_shape: int | tuple[int, ...] | torch.Size) -> torch.Size:
    if not isinstance(event_shape, int | tuple | list | torch.Size):
        kind = type(event_shape).__name__
        raise TypeError(f"event_shape must be a positive int or a tuple of positive ints, not {kind}")
    shape = (event_shape,) if isinstance(event_shape, int) else tuple(event_shape)
    if not shape or not all(isinstance(s, int) and s > 0 for s in shape):
        raise ValueError(
            f"event_shape must be a positive int or a tuple of positive ints, got {event_shape!r}"
        )
    return torch.Size(shape)


def _sampling_device(
    generator: torch.Generator | None, device: torch.device | str | None
) -> torch.device | str | None:
    # A generator only draws on its own device, so it decides when no device is given.
    return device if device is not None else (generator.device if generator is not None else None)


class _Base(nn.Module):
    def __init__(self, event_shape: int | tuple[int, ...]) -> None:
        super().__init__()
        self.event_shape = _as_shape(event_shape)

    def extra_repr(self) -> str:
        return f"event_shape={tuple(self.event_shape)}"

    def _check(self, z: torch.Tensor) -> None:
        if not torch.is_tensor(z):
            raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
        k = len(self.event_shape)
        if z.dim() != k + 1 or z.shape[1:] != self.event_shape:
            raise ValueError(
                f"z must have shape (batch, {', '.join(map(str, self.event_shape))}), got {tuple(z.shape)}"
            )

    def _uniform_shape(self, n: int) -> tuple[int, ...]:
        check_positive_int("n", n)
        return (n, *self.event_shape)


class StandardNormal(_Base):
    r"""Independent $\mathcal{N}(0, 1)$ coordinates with event shape ``event_shape``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import StandardNormal
    >>> base = StandardNormal(2)
    >>> round(base.log_prob(torch.zeros(1, 2)).item(), 4)  # -log(2 pi)
    -1.8379
    >>> base.sample(3, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([3, 2])
    """

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r"""Return $-\tfrac12\|z\|^2 - \tfrac{D}{2}\log 2\pi$ per sample, shape ``(batch,)``."""
        self._check(z)
        d = self.event_shape.numel()
        return -0.5 * z.flatten(1).pow(2).sum(1) - 0.5 * d * math.log(2 * math.pi)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> torch.Tensor:
        """Draw ``n`` events, shape ``(n, *event_shape)``."""
        shape = self._uniform_shape(n)
        device = _sampling_device(generator, device)
        return torch.randn(shape, generator=generator, device=device, dtype=dtype)


class StandardLogistic(_Base):
    r"""Independent standard logistic coordinates (density $e^{-z}/(1+e^{-z})^2$), event shape
    ``event_shape``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import StandardLogistic
    >>> round(StandardLogistic(3).log_prob(torch.zeros(1, 3)).item(), 4)  # 3 log(1/4)
    -4.1589
    """

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        r"""Return $-\sum_i \operatorname{softplus}(z_i) + \operatorname{softplus}(-z_i)$ per sample."""
        self._check(z)
        z = z.flatten(1)
        return -(F.softplus(z) + F.softplus(-z)).sum(1)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> torch.Tensor:
        r"""Draw ``n`` events by inversion, $z = \log u - \log(1-u)$ with $u \sim U(0,1)$."""
        shape = self._uniform_shape(n)
        device = _sampling_device(generator, device)
        u = torch.rand(shape, generator=generator, device=device, dtype=dtype)
        # torch.rand can return exactly 0, whose logit is -inf.
        tiny = torch.finfo(u.dtype).tiny
        u = u.clamp(min=tiny)
        return torch.log(u) - torch.log1p(-u)
