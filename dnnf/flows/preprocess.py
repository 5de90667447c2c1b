r"""The logit preprocessing of RealNVP: pixel space $[0, 1]$ to $\mathbb{R}$.

With $p = \alpha + (1 - 2\alpha) x$ (which keeps $p$ away from 0 and 1),

$$
y = \log p - \log(1 - p), \qquad
\log\left|\det J\right| = \sum_{i=1}^{D} \Big(\log(1 - 2\alpha) - \log p_i - \log(1 - p_i)\Big),
$$

which makes a model's log-likelihood a density in pixel space, comparable with the literature
([Dequantization][dequantization-the-logit-transform-and-bits-per-dimension]).
"""

from __future__ import annotations

import math

import torch

from dnnf._validation import check_finite_number

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

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import LogitTransform, jacobian_logabsdet
    >>> layer = LogitTransform(0.05)
    >>> x = torch.tensor([[0.0, 0.5, 1.0]], dtype=torch.float64)
    >>> y, logdet = layer(x)
    >>> [round(v, 4) for v in y[0].tolist()]  # logit(0.05), logit(0.5), logit(0.95)
    [-2.9444, 0.0, 2.9444]
    >>> torch.allclose(logdet, jacobian_logabsdet(layer, x)), torch.allclose(layer.inverse(y), x)
    (True, True)
    """

    def __init__(self, alpha: float = 0.05) -> None:
        super().__init__()
        alpha = check_finite_number("alpha", alpha)
        if not 0.0 < alpha < 0.5:
            raise ValueError(f"alpha must satisfy 0 < alpha < 0.5, got {alpha!r}")
        self.alpha = alpha

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Return ``(logit(p), log|det J|)``.

        Pixels lie in $[0, 1]$; the map is defined (and invertible) on the slightly larger open interval
        $0 < p < 1$, i.e. $-\alpha/(1-2\alpha) < x < (1-\alpha)/(1-2\alpha)$.
        [`inverse`][dnnf.flows.preprocess.LogitTransform.inverse] never leaves that interval, even after
        rounding, so the model's own samples can always be scored.
        """
        if not torch.is_tensor(x) or x.dim() < 2:
            raise ValueError("x must be a tensor of shape (batch, ...) with pixel values in [0, 1]")
        p = self.alpha + (1 - 2 * self.alpha) * x
        # written as "not inside" so that a NaN pixel fails too (every comparison with NaN is False)
        if not bool(((p > 0) & (p < 1)).all()):
            lo, hi = -self.alpha / (1 - 2 * self.alpha), (1 - self.alpha) / (1 - 2 * self.alpha)
            raise ValueError(
                f"x must have values in [0, 1] (dequantized pixels), at least in ({lo:.4g}, {hi:.4g}) "
                "where the logit transform is defined"
            )
        log_p, log_1mp = torch.log(p), torch.log1p(-p)
        logdet = (math.log1p(-2 * self.alpha) - log_p - log_1mp).flatten(1).sum(1)
        return log_p - log_1mp, logdet

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        r"""Return $x = (\sigma(y) - \alpha)/(1 - 2\alpha)$ with $y$ clamped to $|y| \le y_{\max}$.

        Why the clamp: in floating point $\sigma(y)$ rounds to exactly 1 for $y \gtrsim 16.6$ in float32,
        and $x$ then lands on the edge $(1-\alpha)/(1-2\alpha)$ of the domain, where the logit is
        infinite and ``forward`` refuses it; a sample of the trained Glow has such a pixel about one
        time in ten. With $\delta = 4\varepsilon$ ($\varepsilon$ the dtype's machine epsilon) and
        $y_{\max} = \operatorname{logit}(1 - \delta)$ ($14.56$ in float32, $34.66$ in float64) every
        output satisfies $0 < p < 1$ after rounding. The clamp changes the map only for $|y| > y_{\max}$,
        i.e. pixels within $\delta/(1-2\alpha)$ of the edge of the model's support, outside $[0, 1]$;
        for $\alpha > \delta$ it never touches the image of $[0, 1]$, so ``forward`` and ``inverse``
        stay exact inverses there.
        """
        delta = 4.0 * torch.finfo(y.dtype).eps if y.is_floating_point() else 4.0 * torch.finfo().eps
        limit = math.log1p(-delta) - math.log(delta)
        return (torch.sigmoid(y.clamp(-limit, limit)) - self.alpha) / (1 - 2 * self.alpha)
