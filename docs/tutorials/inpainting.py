# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Inpainting MNIST digits with a trained flow
#
# We hide part of held-out digits and fill the hole by projected gradient ascent on the log-likelihood
# of the project's NICE model, as the [inpainting chapter](../inpainting/index.md) derives. We compare the
# recipe of the homework's reference solution (300 plain SGD steps of size $10^{-3}$), projected Adam with a schedule and a
# stopping rule, and two model-free baselines, on the pixels that were actually missing.
#
# The models come from the pretrained cache through `load_or_train_mnist_flow`: the NICE of the
# [flows tutorial](flows_mnist.py), and in the last part two models trained on noise-smoothed digits
# (`"nice_smoothed"`, `"glow_smoothed"`). This notebook trains nothing when they are cached: the site
# build trains them first, and on your machine `python scripts/train_flow.py --arch <name> --pretrained`
# does the same (see [Run the tutorials locally](../run-locally.md)); with an empty cache the first
# call trains each one (about 1, 1 and 4 CPU minutes).
#
# Seed: `torch.manual_seed(0)` and explicit generators seeded with 0 (numpy is not used). CPU run time:
# about 100 s (one thread) with the models cached. It looks at 30 held-out digits and scores the first
# 10 (one of each class) in its tables; the benchmark `scripts/bench_inpainting.py` runs the same
# comparison on 100 digits, with the projected Langevin mean too, and gives the chapter's numbers.

# %%
import time

import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats
import torch

from dnnf.data import load_mnist, to_unit_interval
from dnnf.device import default_device
from dnnf.flows import bits_per_dim
from dnnf.inpainting import (
    MASK_KINDS,
    PLAIN_SGD_RECIPE,
    format_psnr_table,
    inpaint,
    inpainting_methods,
    langevin_inpaint,
    make_mask,
    psnr,
    psnr_table,
    ssim,
)
from dnnf.plotting.inpainting import plot_log_likelihood_curves, show_inpainting_grid
from dnnf.plotting.tables import Table
from dnnf.training import load_or_train_mnist_flow

set_matplotlib_formats("retina")  # twice the pixels: sharp on dense screens and when enlarged

start_time = time.perf_counter()
torch.manual_seed(0)
device = default_device()
model = load_or_train_mnist_flow("nice", device=device, progress=False).requires_grad_(False)

# 30 held-out digits, 3 of each class, at the centre of their quantization bins (no random dequantization).
test_images, test_labels = load_mnist("test")
order = torch.cat([torch.nonzero(test_labels == c).flatten()[:3] for c in range(10)])
order = order.view(10, 3).T.flatten()  # digits 0..9, then 0..9 again, ...
images = to_unit_interval(test_images[order]).to(device)
mean_image = to_unit_interval(load_mnist("train")[0]).mean(dim=0).to(device)
masks = {kind: make_mask(kind, generator=torch.Generator().manual_seed(0)).to(device) for kind in MASK_KINDS}
print(f"{images.shape[0]} held-out digits; model: {model.config['name']}; device: {device}")
print(f"held-out bits/dim of these digits: {bits_per_dim(model.log_prob(images)).mean():.3f}")

# %% [markdown]
# ## Plain SGD, the reference solution's recipe, and what its steps do
#
# The homework's reference solution runs plain SGD on $-\log p(x)$ with step $10^{-3}$ for 300 steps from the corrupted image
# (hole set to 0). The size of a plain gradient step is the step size times the gradient, and a
# flow's pixel gradient spans orders of magnitude:

# %%
known = masks["centre"]
x0 = torch.where(known, images, 0.0).requires_grad_(True)
(grad,) = torch.autograd.grad(model.log_prob(x0).sum(), x0)
hole_grad = grad[:, :, ~known].abs().flatten()
print("|d log p / d x_i| on the hole: quantiles 10%, 50%, 90%, max:",
      [round(v, 1) for v in torch.quantile(hole_grad, torch.tensor([0.1, 0.5, 0.9])).tolist()],
      round(hole_grad.max().item(), 1))

plain = inpaint(model, images, known, **PLAIN_SGD_RECIPE)
adam = inpaint(model, images, known)
adam_zeros = inpaint(model, images, known, init="zeros")
moved = (plain.images - x0.detach())[:, :, ~known].abs()
print(f"plain SGD: {100 * (moved > 0.01).float().mean():.0f}% of hole pixels moved by more than 0.01, "
      f"{100 * (moved > 0.5).float().mean():.1f}% by more than 0.5")
print(f"log p after 300 plain SGD steps: {plain.log_prob[-1].mean():.0f} nats (start {plain.log_prob[0].mean():.0f}); "
      f"projected Adam: {adam.log_prob[-1].mean():.0f} nats after {adam.num_steps.float().mean():.0f} steps on average")

# %% [markdown]
# A step of $10^{-3}$ times a gradient of order 10 moves a pixel by $10^{-2}$; times a gradient of
# order $10^3$ it throws the pixel onto a face of the box. Adam divides each coordinate's step by a
# running estimate of its gradient's size, so every hole pixel moves at the same rate, and the cosine
# schedule with the stopping rule ends the ascent once the likelihood has stopped rising. The curves
# below are measured against each digit's own log-likelihood: above zero, the completion is rated more
# likely than the true digit. On the left-half mask the plain SGD steps overshoot: pixels with
# gradients near $10^3$ are thrown from one face of the box to the other at every step, and the
# log-likelihood swings by tens of thousands of nats from one step to the next. The diffusion fill
# starts far below (the model dislikes smooth grey strokes) and Adam climbs from it within a few steps.

# %% alt="Two stacked panels of log p(x_t) - log p(original) in nats against the step, median and quartiles over 30 digits, for plain SGD with step 1e-3 from zeros, projected Adam from zeros and projected Adam from the diffusion fill. Centre mask: SGD creeps up slowly while both Adam runs climb within a few steps to above zero. Left-half mask (symmetric-log scale): the SGD curve swings by tens of thousands of nats from step to step, and Adam from the diffusion fill starts far below and climbs above zero within a few steps."
# Subtract each digit's own log-likelihood so that the curves show the ascent, not the spread between digits.
with torch.no_grad():
    reference = model.log_prob(images).cpu()
fig, axes = plt.subplots(2, 1, figsize=(5.8, 7.2), layout="constrained")
for ax, kind in zip(axes, ["centre", "left"]):
    if kind == "centre":
        runs = (plain, adam_zeros, adam)
    else:
        runs = (inpaint(model, images, masks[kind], **PLAIN_SGD_RECIPE),
                inpaint(model, images, masks[kind], init="zeros"), inpaint(model, images, masks[kind]))
    labels = ("plain SGD (1e-3, from zeros)", "projected Adam, from zeros",
              "projected Adam, from the diffusion fill")
    plot_log_likelihood_curves({label: run.log_prob - reference for label, run in zip(labels, runs)}, ax=ax,
                               ylabel="log p(x_t) - log p(original), nats")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_title(f"{kind} mask: median and quartiles over 30 digits")
    if kind == "left":
        ax.set_yscale("symlog", linthresh=100)  # the plain SGD curve swings by tens of thousands of nats
plt.show()

# %% [markdown]
# ## Every mask type: the completions and the PSNR table
#
# For each mask: the original, the corrupted image (hole in red), and the completions: the two
# baselines (mean fill uses the training set's mean image), plain SGD, projected Adam, the
# *MALA mean* (4 Metropolis-adjusted Langevin chains per digit, 300 steps of which the last 150 are
# averaged: an estimate of the model's conditional mean $\mathbb E[x_U \mid x_K]$, see
# [Sampling completions](../inpainting/conditional-mean.md)), and the *KDE yardstick*, the exact conditional mean of a
# Gaussian kernel density estimate of the 4,000 training digits (bandwidth 1; see
# [the yardstick's page](../inpainting/kde-yardstick.md)). The yardstick is not a
# flow method: it shows what a density model of these training digits can reach. PSNR is measured on
# the hole only; whole-image PSNR would add $10 \log_{10}(d/m)$ dB to every method.

# %% alt=["Mask centre: ten held-out digits in columns; rows show the original, the corrupted image with the missing centre square in red, and the completions by mean fill, diffusion fill, plain SGD, projected Adam, the MALA mean and the KDE yardstick. The mean and diffusion fills are blurry grey, Adam draws saturated strokes or erases them, the MALA mean is softer, and the KDE yardstick is closest to the originals.", "Mask left: ten held-out digits in columns; rows show the original, the corrupted image with the missing left half in red, and the completions by mean fill, diffusion fill, plain SGD, projected Adam, the MALA mean and the KDE yardstick. The mean and diffusion fills are blurry grey, Adam draws saturated strokes or erases them, the MALA mean is softer, and the KDE yardstick is closest to the originals.", "Mask right: ten held-out digits in columns; rows show the original, the corrupted image with the missing right half in red, and the completions by mean fill, diffusion fill, plain SGD, projected Adam, the MALA mean and the KDE yardstick. The mean and diffusion fills are blurry grey, Adam draws saturated strokes or erases them, the MALA mean is softer, and the KDE yardstick is closest to the originals.", "Mask top: ten held-out digits in columns; rows show the original, the corrupted image with the missing top half in red, and the completions by mean fill, diffusion fill, plain SGD, projected Adam, the MALA mean and the KDE yardstick. The mean and diffusion fills are blurry grey, Adam draws saturated strokes or erases them, the MALA mean is softer, and the KDE yardstick is closest to the originals.", "Mask bottom: ten held-out digits in columns; rows show the original, the corrupted image with the missing bottom half in red, and the completions by mean fill, diffusion fill, plain SGD, projected Adam, the MALA mean and the KDE yardstick. The mean and diffusion fills are blurry grey, Adam draws saturated strokes or erases them, the MALA mean is softer, and the KDE yardstick is closest to the originals.", "Mask random: ten held-out digits in columns; rows show the original, the corrupted image with scattered missing pixels in red, and the completions by mean fill, diffusion fill, plain SGD, projected Adam, the MALA mean and the KDE yardstick. Diffusion fill comes closest to the originals here; the flow-based completions leave speckles."]
# The tables score the first 10 digits, one of each class: the MALA chains cost seconds per digit.
table_images = images[:10]
mala = {"num_chains": 4, "num_steps": 300, "generator": torch.Generator().manual_seed(0)}
train_images = to_unit_interval(load_mnist("train")[0]).to(device)
methods = inpainting_methods(model, mean_image, mala_kwargs=mala, kde=(train_images, 1.0))
scores, completions = psnr_table(methods, table_images, masks)
for kind, known in masks.items():
    rows = {"original": table_images, "corrupted": table_images}
    rows.update(completions[kind])
    show_inpainting_grid(rows, known=known, title=f"mask: {kind}", scale=0.9)
    plt.show()

# %%
Table.from_markdown(format_psnr_table(scores), caption="Hole PSNR in dB, mean ± standard error over 10 held-out digits")

# %% [markdown]
# Which completion does the model itself prefer? The mean log-likelihood (nats per image) of the
# original digits and of the completions:

# %%
with torch.no_grad():
    rows = [[kind, f"{model.log_prob(table_images).mean():.0f}"]
            + [f"{model.log_prob(completions[kind][name]).mean():.0f}" for name in methods] for kind in masks]
Table(["mask", "original", *methods], rows, caption="Mean log-likelihood, nats per image")

# %% [markdown]
# The ascent does what it is asked: projected Adam finds completions the model rates *more* likely than
# the true digits. But the mode of this model's pixel-space density is a high-contrast image with a
# black background, so where the hole hides a stroke the ascent often erases it, and where it guesses a
# stroke it draws it saturated; a wrong saturated pixel costs more squared error than a grey one. The
# squared error is minimised by the conditional *mean*, not the mode, and the MALA mean, which
# estimates it, beats the mode on every mask here, yet it beats the mean-fill baseline on the block
# masks by about half a decibel at most: the chains do not travel far from their start in 300 steps, and
# this NICE's conditional law is broad. Model-free diffusion, which only assumes that neighbouring
# pixels are alike, remains hard to beat when the missing pixels are scattered (the `random` mask),
# because this NICE, a fully connected model, has no built-in notion of neighbourhood. The KDE
# yardstick shows how much room there is: on the block masks an exact conditional mean of a density
# of these digits gains about 3 dB over mean fill, and on the random mask even it only ties with
# diffusion. The [chapter](../inpainting/index.md#results-on-100-held-out-digits) gives the benchmark's
# numbers on 100 digits.

# %% [markdown]
# The same completions scored over the whole image, and by SSIM (an image-level index), for the
# left-half mask:

# %%
known = masks["left"]
for name, out in completions["left"].items():
    print(f"{name:>15}: hole PSNR {psnr(out, table_images, known).mean():5.2f} dB, "
          f"whole-image PSNR {psnr(out, table_images).mean():5.2f} dB, "
          f"SSIM {ssim(out.cpu(), table_images.cpu()).mean():.3f}")

# %% [markdown]
# ## A model made for inpainting: train on smoothed digits
#
# The flows above were trained on dequantized digits, so their densities are sharp at the scale of one
# grey level: the mode erases or saturates strokes, and the chains crawl. Train instead on digits with
# Gaussian noise of standard deviation $s = 0.1$ added (`train_flow(..., noise_std=0.1)`, recipes
# `"nice_smoothed"` and `"glow_smoothed"`, no logit since the noisy data leave $[0, 1]$): the model then
# fits the smoothed density $p_s = p_{\text{data}} * \mathcal N(0, s^2 I)$, the same kind of object as
# the KDE yardstick. By Tweedie's formula,
# $\mathbb E[x \mid \tilde x] = \tilde x + s^2 \nabla \log p_s(\tilde x)$, so where projected ascent stops with the hole inside the box ($\nabla_U \log p_s = 0$), the completion
# is a fixed point of the model's own least-squares denoiser on the hole, not a saturated caricature.
# Both come from the pretrained cache, like the NICE above. To keep the notebook short they are scored
# on two block masks and the random one; the benchmark scores every mask.

# %% alt=["Smoothed models, centre mask: ten digits in columns; rows show the original, the corrupted image with the centre square in red, mean fill, diffusion fill, the KDE yardstick and projected Adam under the smoothed NICE and the smoothed Glow. The smoothed NICE draws plausible strokes through the hole, close to the KDE yardstick; the smoothed Glow fills it less well.", "Smoothed models, random mask: the same rows for scattered missing pixels. The smoothed Glow restores the digits almost exactly, ahead of diffusion fill; the smoothed NICE leaves visible speckles."]
smoothed = {name: load_or_train_mnist_flow(name, device=device, progress=False).requires_grad_(False)
            for name in ("nice_smoothed", "glow_smoothed")}  # fmt: skip
new_methods = {f"{name}, projected Adam": (lambda x, k, m=m: inpaint(m, x, k).images)
               for name, m in smoothed.items()}  # fmt: skip
some_masks = {kind: masks[kind] for kind in ("centre", "left", "random")}
new_scores, new_completions = psnr_table(new_methods, table_images, some_masks)
keep = ["mean fill", "diffusion fill", "MALA mean", "KDE yardstick"]
combined = {kind: {**{name: scores[kind][name] for name in keep}, **new_scores[kind]} for kind in some_masks}
Table.from_markdown(
    format_psnr_table(combined),
    caption="Hole PSNR in dB, mean ± standard error over 10 held-out digits (MALA mean: the NICE above)",
).show()
for kind in ("centre", "random"):
    rows = {"original": table_images, "corrupted": table_images}
    rows.update({name: completions[kind][name] for name in keep if name != "MALA mean"})
    rows.update(new_completions[kind])
    show_inpainting_grid(rows, known=masks[kind], title=f"smoothed models, mask: {kind}", scale=0.9)
    plt.show()

# %% [markdown]
# The smoothed NICE, a fully connected model, now draws strokes where the hole hides them and reaches
# about the KDE yardstick on the block masks; the smoothed Glow, whose couplings are convolutions,
# models what neighbouring pixels do and is far ahead of diffusion on scattered missing pixels, but
# it has no global view of the digit and loses on the block masks.
# [Smoothed models](../inpainting/smoothed-models.md) measures both on 100 digits.

# %% [markdown]
# ## Several completions: projected Langevin
#
# Adding $\sqrt{2\eta}\,\xi_t$ to each step turns the ascent into an (approximate) sampler of
# $p(x_U \mid x_K)$; four chains per digit give four completions of the top half.

# %% alt="Projected Langevin with the top half missing: six held-out digits in columns; rows show the original, the corrupted image with the top half in red, four samples from independent chains, and their mean. The samples differ from each other in the top half, and their mean is a blurrier average of them."
known = masks["top"]
chains = langevin_inpaint(model, images[:6], known, num_chains=4, step_size=1e-4, num_steps=150,
                          generator=torch.Generator().manual_seed(0))  # fmt: skip
rows = {"original": images[:6], "corrupted": images[:6]}
rows.update({f"sample {s + 1}": chains.samples[s] for s in range(4)})
rows["mean of 4"] = chains.samples.mean(dim=0)
show_inpainting_grid(rows, known=known, title="projected Langevin, top half missing", scale=0.9)
plt.show()
print(f"total run time: {time.perf_counter() - start_time:.0f} s")
