r"""The logit preprocessing of RealNVP: pixel space $[0, 1]$ to $\mathbb{R}$.

With $p = \alpha + (1 - 2\alpha) x$ (which keeps $p$ away from 0 and 1),

$$
y = \log p - \log(1 - p), \qquad
\log\left|\det J\right| = \sum_{i=1}^{D} \Big(\log(1 - 2\alpha) - \log p_i - \log(1 - p_i)\Big),
$$

since $\frac{dy}{dx} = \frac{1 - 2\alpha}{p (1 - p)}$ coordinatewise. Including this term is what makes
a model's log-likelihood a density in pixel space, comparable with the literature.
"""

from __future__ import annotations

import math

import torch

from .base import Flow

__all__ = ["LogitTransform"]


class LogitTransform(Flow):
    r"""$x \in [0,1]^D \mapsto \operatorname{logit}(\alpha + (1-2\alpha)x)$, elementwise.

    Parameters
    ----------
    alpha : float
        $0 < \alpha < 1/2$. A larger $\alpha$ (0.05, RealNVP's choice) bounds the derivative
        $|d\log|\det J|/dx_i| \le (1-2\alpha)/\alpha$, which keeps gradients with respect to the pixels
        (inpainting) moderate at pixels near 0 or 1.
    """

    def __init__(self, alpha: float = 0.05) -> None:
        super().__init__()
        alpha = float(alpha)
        if not 0.0 < alpha < 0.5:
            raise ValueError(f"alpha must satisfy 0 < alpha < 0.5, got {alpha!r}")
        self.alpha = alpha

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Return ``(logit(p), log|det J|)``.

        Pixels lie in $[0, 1]$; the map is defined (and invertible) on the slightly larger open interval
        $0 < p < 1$, i.e. $-\alpha/(1-2\alpha) < x < (1-\alpha)/(1-2\alpha)$. That interval is the image
        of :meth:`inverse`, so the model's own samples can be scored (unless the sigmoid rounds to exactly
        0 or 1, for latents beyond about $\pm 17$ in float32).
        """
        if not torch.is_tensor(x) or x.dim() < 2:
            raise ValueError("x must be a tensor of shape (batch, ...) with pixel values in [0, 1]")
        p = self.alpha + (1 - 2 * self.alpha) * x
        if bool(((p <= 0) | (p >= 1)).any()):
            lo, hi = -self.alpha / (1 - 2 * self.alpha), (1 - self.alpha) / (1 - 2 * self.alpha)
            raise ValueError(
                f"x must have values in [0, 1] (dequantized pixels), at least in ({lo:.4g}, {hi:.4g}) "
                "where the logit transform is defined"
            )
        log_p, log_1mp = torch.log(p), torch.log1p(-p)
        logdet = (math.log1p(-2 * self.alpha) - log_p - log_1mp).flatten(1).sum(1)
        return log_p - log_1mp, logdet

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $x = (\sigma(y) - \alpha)/(1 - 2\alpha)$."""
        return (torch.sigmoid(y) - self.alpha) / (1 - 2 * self.alpha)
