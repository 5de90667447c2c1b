r"""Reconstruction quality, measured where it matters: on the missing pixels.

For a batch of reconstructions $\hat x$ of images $x$ with hole $U$ (the unknown pixels, $m = |U|$ of
$d$), the hole MSE and PSNR are

$$
\mathrm{MSE}_U(\hat x, x) = \frac{1}{m} \sum_{i \in U} (\hat x_i - x_i)^2, \qquad
\mathrm{PSNR}_U = 10 \log_{10} \frac{R^2}{\mathrm{MSE}_U},
$$

with $R$ the data range (1 for pixels in $[0, 1]$). Whole-image PSNR would add $10 \log_{10}(d / m)$
whatever the reconstruction, which is why the book reports $\mathrm{PSNR}_U$
([Measuring the result][measuring-the-result]).
"""

from __future__ import annotations

import torch

from dnnf._validation import check_images, check_positive, check_same_shape
from dnnf.inpainting.masks import expand_mask

__all__ = ["mse", "psnr", "ssim"]


def mse(
    reconstructions: torch.Tensor, targets: torch.Tensor, known: torch.Tensor | None = None
) -> torch.Tensor:
    r"""Mean squared error per image, over the missing pixels when ``known`` is given.

    Parameters
    ----------
    reconstructions, targets
        Images of shape ``(B, C, H, W)`` with values in $[0, 1]$.
    known
        Optional boolean mask (``True`` = observed), broadcastable to the images. When given, only
        pixels where it is ``False`` count: $\mathrm{MSE}_U$. When ``None``, every pixel counts.

    Returns
    -------
    torch.Tensor
        Shape ``(B,)``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, mse
    >>> completed, truth = torch.full((1, 1, 4, 4), 0.5), torch.full((1, 1, 4, 4), 0.75)
    >>> mse(completed, truth, centre_square_mask(4, 4, size=2)).tolist()  # over the 4 hole pixels
    [0.0625]
    """
    check_images("reconstructions", reconstructions)
    check_images("targets", targets)
    check_same_shape("reconstructions", reconstructions, "targets", targets)
    squared = (reconstructions - targets).square().flatten(1)
    if known is None:
        return squared.mean(dim=1)
    hole = (~expand_mask(known, targets)).flatten(1)
    return (squared * hole).sum(dim=1) / hole.sum(dim=1)


def psnr(
    reconstructions: torch.Tensor,
    targets: torch.Tensor,
    known: torch.Tensor | None = None,
    data_range: float = 1.0,
) -> torch.Tensor:
    r"""Peak signal-to-noise ratio in dB per image: $10 \log_{10}(R^2 / \mathrm{MSE})$.

    Parameters
    ----------
    reconstructions, targets
        Images of shape ``(B, C, H, W)`` with values in $[0, 1]$.
    known
        Optional boolean mask; when given, the MSE is taken over the missing pixels only
        ($\mathrm{PSNR}_U$, see the module docstring for why).
    data_range
        $R$, the difference between the largest and smallest possible pixel value.

    Returns
    -------
    torch.Tensor
        Shape ``(B,)``; ``inf`` for an exact reconstruction.

    Examples
    --------
    $10\log_{10}(1/0.0625) = 12.04$ dB:

    >>> import torch
    >>> from dnnf.inpainting import centre_square_mask, psnr
    >>> completed, truth = torch.full((1, 1, 4, 4), 0.5), torch.full((1, 1, 4, 4), 0.75)
    >>> round(psnr(completed, truth, centre_square_mask(4, 4, size=2)).item(), 2)
    12.04
    """
    r = check_positive("data_range", data_range)
    return 10.0 * torch.log10(r**2 / mse(reconstructions, targets, known))


def ssim(
    reconstructions: torch.Tensor,
    targets: torch.Tensor,
    data_range: float = 1.0,
) -> torch.Tensor:
    r"""Structural similarity (Wang et al., 2004) per image, averaged over channels.

    Computed by scikit-image's ``structural_similarity`` with the paper's settings: an $11 \times 11$
    Gaussian window of width $\sigma = 1.5$, population (not sample) covariances, $K_1 = 0.01$,
    $K_2 = 0.03$. With local means $\mu$, variances $\sigma^2$ and covariance $\sigma_{xy}$,

    $$
    \mathrm{SSIM}(x, y) = \frac{(2 \mu_x \mu_y + C_1)(2 \sigma_{xy} + C_2)}
    {(\mu_x^2 + \mu_y^2 + C_1)(\sigma_x^2 + \sigma_y^2 + C_2)}, \qquad C_j = (K_j R)^2,
    $$

    averaged over the window positions that fit inside the image. SSIM is an image-level index: it sees
    the known pixels too, so compare methods with it, not masks.

    Parameters
    ----------
    reconstructions, targets
        Images of shape ``(B, C, H, W)`` with values in $[0, 1]$, at least $11 \times 11$.
    data_range
        $R$, the difference between the largest and smallest possible pixel value.

    Returns
    -------
    torch.Tensor
        Shape ``(B,)``, float64, on the CPU.

    Examples
    --------
    >>> import torch
    >>> from dnnf.inpainting import ssim
    >>> images = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    >>> ssim(images, images).tolist(), bool(ssim(images, images.flip(0)).max() < 0.2)
    ([1.0, 1.0], True)
    """
    from skimage.metrics import structural_similarity

    check_images("reconstructions", reconstructions)
    check_images("targets", targets)
    check_same_shape("reconstructions", reconstructions, "targets", targets)
    r = check_positive("data_range", data_range)
    if min(targets.shape[-2:]) < 11:
        raise ValueError(f"ssim needs images of at least 11 x 11 pixels, got {tuple(targets.shape[-2:])}")
    x = reconstructions.detach().to("cpu", torch.float64).numpy()
    y = targets.detach().to("cpu", torch.float64).numpy()
    values = [
        structural_similarity(
            x[b],
            y[b],
            data_range=r,
            channel_axis=0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
        for b in range(x.shape[0])
    ]
    return torch.tensor(values, dtype=torch.float64)
