r"""The Gaussian log-ratio: the closed-form case of $\nabla_\phi\,\mathbb{E}_{q_\phi}[\log(h(Z)/q_\phi(Z))]$.

With $q_\phi = \mathcal{N}(\mu,\sigma^2)$, $\phi = (\mu,\sigma)$, and an unnormalised Gaussian target
$h(z) = e^{c}\,\mathcal{N}(z; m, s^2)$,

$$
\mathbb{E}_{q_\phi}\Big[\log\frac{h(Z)}{q_\phi(Z)}\Big]
= c - \mathrm{KL}\big(q_\phi \,\|\, \mathcal{N}(m,s^2)\big)
= c - \log\frac{s}{\sigma} - \frac{\sigma^2 + (\mu-m)^2}{2s^2} + \frac12 .
$$

Its gradient equals $\mathbb{E}_{q_\phi}[\nabla_\phi\log q_\phi(Z)\,\log(h(Z)/q_\phi(Z))]$
([The gradient of an expected log-ratio][the-gradient-of-an-expected-log-ratio]); the
tests check both sides against [`gaussian_log_ratio_gradient`][dnnf.estimators.gaussian_log_ratio_gradient].
"""

from __future__ import annotations

import torch

__all__ = ["gaussian_log_ratio_expectation", "gaussian_log_ratio_gradient"]


def _as_tensors(**values: float | torch.Tensor) -> list[torch.Tensor]:
    out = []
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, float | int | torch.Tensor):
            raise TypeError(f"{name} must be a float or a torch.Tensor, got {type(value).__name__}")
        t = torch.as_tensor(value, dtype=torch.float64)
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite")
        if name in ("sigma", "h_sigma") and not bool((t > 0).all()):
            raise ValueError(f"{name} must be a positive scale ({name} > 0)")
        out.append(t)
    return list(torch.broadcast_tensors(*out))


def gaussian_log_ratio_expectation(
    mu: float | torch.Tensor,
    sigma: float | torch.Tensor,
    h_mu: float | torch.Tensor,
    h_sigma: float | torch.Tensor,
    log_h_scale: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    r"""Closed form of $\mathbb{E}_{\mathcal{N}(\mu,\sigma^2)}[\log(h(Z)/q(Z))]$.

    $$
    \mathbb{E}_q\Big[\log\frac{h}{q}\Big]
    = c - \log\frac{s}{\sigma} - \frac{\sigma^2+(\mu-m)^2}{2s^2} + \frac12 .
    $$

    Parameters
    ----------
    mu, sigma : float or torch.Tensor
        Mean and (positive) standard deviation of $q$.
    h_mu, h_sigma : float or torch.Tensor
        $m$ and $s > 0$ of the target $h(z) = e^c\,\mathcal{N}(z; m, s^2)$.
    log_h_scale : float or torch.Tensor
        $c = \log\int h$ (0 for a normalised target).

    Returns
    -------
    torch.Tensor
        float64, differentiable in every argument.

    Examples
    --------
    >>> from dnnf.estimators import gaussian_log_ratio_expectation
    >>> float(gaussian_log_ratio_expectation(0.0, 1.0, h_mu=0.0, h_sigma=1.0))  # q = h: minus KL = 0
    0.0
    >>> float(gaussian_log_ratio_expectation(1.0, 1.0, h_mu=0.0, h_sigma=1.0, log_h_scale=2.0))
    1.5
    """
    mu, sigma, m, s, c = _as_tensors(mu=mu, sigma=sigma, h_mu=h_mu, h_sigma=h_sigma, log_h_scale=log_h_scale)
    return c - torch.log(s / sigma) - (sigma**2 + (mu - m) ** 2) / (2 * s**2) + 0.5


def gaussian_log_ratio_gradient(
    mu: float | torch.Tensor,
    sigma: float | torch.Tensor,
    h_mu: float | torch.Tensor,
    h_sigma: float | torch.Tensor,
) -> torch.Tensor:
    r"""Exact gradient in $(\mu,\sigma)$: $\big(-\frac{\mu-m}{s^2},\ \frac1\sigma - \frac{\sigma}{s^2}\big)$.

    Returns
    -------
    torch.Tensor
        Shape ``(*broadcast_shape, 2)``, float64 (the scale $c$ does not enter).

    Examples
    --------
    >>> from dnnf.estimators import gaussian_log_ratio_gradient
    >>> gaussian_log_ratio_gradient(0.0, 1.0, h_mu=1.0, h_sigma=2.0).tolist()
    [0.25, 0.75]
    """
    mu, sigma, m, s = _as_tensors(mu=mu, sigma=sigma, h_mu=h_mu, h_sigma=h_sigma)
    return torch.stack([-(mu - m) / s**2, 1 / sigma - sigma / s**2], dim=-1)
