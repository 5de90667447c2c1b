"""Image inpainting with a density model: projected gradient ascent on log p(x) over the box of completions.

The chapter's library: masks ([`masks`][dnnf.inpainting.masks]), hole-only metrics
([`metrics`][dnnf.inpainting.metrics]), model-free baselines ([`baselines`][dnnf.inpainting.baselines]), the
KDE yardstick ([`kde`][dnnf.inpainting.kde]), the ascent ([`ascent`][dnnf.inpainting.ascent]), its noisy
variant ([`langevin`][dnnf.inpainting.langevin]) and the conditional-mean sampler
([`mala`][dnnf.inpainting.mala]).
"""

from dnnf.inpainting.ascent import PLAIN_SGD_RECIPE, InpaintingResult, inpaint
from dnnf.inpainting.baselines import diffusion_fill, mean_fill
from dnnf.inpainting.compare import format_psnr_table, inpainting_methods, psnr_table
from dnnf.inpainting.constraint import box_bounds, initial_fill
from dnnf.inpainting.kde import kde_conditional_mean
from dnnf.inpainting.langevin import LangevinResult, langevin_inpaint
from dnnf.inpainting.mala import MALAResult, mala_inpaint
from dnnf.inpainting.masks import (
    MASK_KINDS,
    centre_square_mask,
    expand_mask,
    half_mask,
    make_mask,
    random_pixel_mask,
)
from dnnf.inpainting.metrics import mse, psnr, ssim

__all__ = [
    "MASK_KINDS",
    "PLAIN_SGD_RECIPE",
    "InpaintingResult",
    "LangevinResult",
    "MALAResult",
    "box_bounds",
    "centre_square_mask",
    "diffusion_fill",
    "expand_mask",
    "format_psnr_table",
    "half_mask",
    "initial_fill",
    "inpaint",
    "inpainting_methods",
    "kde_conditional_mean",
    "langevin_inpaint",
    "make_mask",
    "mala_inpaint",
    "mean_fill",
    "mse",
    "psnr",
    "psnr_table",
    "random_pixel_mask",
    "ssim",
]
