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
# # Training a flow on MNIST
#
# This notebook trains the two models of the [flows chapter](../flows/index.md), NICE and a small
# Glow, by maximum likelihood on the offline MNIST split (4,000 training images, 1,000 held out),
# reports their held-out bits per dimension, and looks at what they learned: samples at several
# temperatures and paths in latent space between held-out digits. How the training works, and how
# these numbers compare with published ones, is on the page [Training a flow](../flows/training.md).
#
# The models come from `load_or_train_mnist_flow`: the first call trains each one with the project's
# fixed recipe and saves the checkpoint in the cache (`$DNNF_CACHE_DIR`, default `~/.cache/dnnf`);
# later calls, including the [inpainting tutorial](inpainting.py), load it.
#
# Seed: every random draw below uses an explicit `torch.Generator` seeded with 0 (training is
# seeded by its recipe, seed 0; numpy is not used). CPU run time: about 6 s (one thread) with both
# models in the cache, where the site build (or `python scripts/train_flow.py --arch nice --pretrained`,
# then `--arch glow`) puts them; on an empty cache the first run trains them here, which adds about
# 55 s for NICE and 90 s for the Glow-style model.

# %%
import time

import matplotlib.pyplot as plt
from matplotlib_inline.backend_inline import set_matplotlib_formats
import torch

from dnnf.data import load_mnist, to_unit_interval
from dnnf.device import default_device
from dnnf.plotting.flows import plot_image_grid
from dnnf.training import (
    evaluate_bits_per_dim,
    load_checkpoint,
    load_or_train_mnist_flow,
    pretrained_checkpoint_path,
)

set_matplotlib_formats("retina")  # twice the pixels: sharp on dense screens and when enlarged

torch.manual_seed(0)
device = default_device()
test_images, test_labels = load_mnist("test")
print(f"held-out images: {tuple(test_images.shape)}, {test_images.dtype}; device: {device}")

# %% [markdown]
# ## Train (or load) the two models
#
# Each call below either loads the cached checkpoint or trains the model with Adam on batches of 64
# dequantized images, $x = (k + u)/256$, minimising the batch's mean bits per dimension.

# %%
models, histories = {}, {}
for arch in ("nice", "glow"):
    start = time.perf_counter()
    models[arch] = load_or_train_mnist_flow(arch, device=device, progress=False)
    histories[arch] = load_checkpoint(pretrained_checkpoint_path(arch))["metrics"]
    n_params = sum(p.numel() for p in models[arch].parameters())
    print(f"{arch}: {n_params:,} parameters, ready in {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## Held-out bits per dimension
#
# `evaluate_bits_per_dim` dequantizes each held-out image once (seeded noise) and averages
# $-\bigl(\log p(x) - D\log 256\bigr)/(D \log 2)$ over the 1,000 images, $D = 784$. The uniform
# density on $[0,1]^{784}$ scores exactly 8 bits/dim.

# %% alt="Bits per dimension against the Adam step for NICE and Glow: the moving average of the training batches falls steeply in the first few hundred steps and then slowly, and the held-out evaluations (circles, dashed) follow it; Glow ends well below NICE."
fig, ax = plt.subplots(figsize=(5.8, 3.8))
for arch, history in histories.items():
    bpd, stderr = evaluate_bits_per_dim(models[arch], test_images, return_stderr=True)
    print(f"{arch}: held-out {bpd:.3f} ± {stderr:.3f} bits/dim (± one standard error over the images)")
    train = torch.tensor(history["train_bpd"])
    smooth = torch.nn.functional.avg_pool1d(train[None, None], 25, stride=1)[0, 0]
    ax.plot(range(25, len(train) + 1), smooth, label=f"{arch}: training batches (moving average)")
    steps, values = zip(*history["eval_bpd"], strict=True)
    ax.plot(steps, values, "o--", label=f"{arch}: held-out")
ax.set_xlabel("Adam step")
ax.set_ylabel("bits / dim")
ax.set_ylim(top=6)
ax.legend()
plt.show()

# %% [markdown]
# ## Samples at several temperatures
#
# A sample is $x = f^{-1}(z)$ with $z$ drawn from the base distribution. At $T = 1$ we sample the
# model exactly. Scaling the draw, $z \mapsto T z$ with a temperature $T < 1$, samples closer to the
# mode of the base distribution ([Kingma and Dhariwal 2018](../references.md#kingma2018) use it to trade
# diversity for quality). Be
# honest about what small models trained for minutes on 4,000 images give: NICE draws speckled clouds
# in the shape of digits, Glow draws strokes and blobs; neither draws convincing digits. As $T$
# decreases, Glow's samples fade towards black: the mode of an MNIST model is close to the empty
# background, which covers most of every image.

# %% alt="Six 4 by 4 grids of generated 28 by 28 images: top row NICE, bottom row Glow, at temperatures 1, 0.8 and 0.6 from left to right. NICE draws speckled digit-shaped clouds; Glow draws strokes and blobs that fade towards a black background as the temperature decreases."
temperatures = (1.0, 0.8, 0.6)
fig, axes = plt.subplots(2, len(temperatures), figsize=(5.8, 4.4))
for row, arch in enumerate(("nice", "glow")):
    model = models[arch]
    for ax, temperature in zip(axes[row], temperatures, strict=True):
        generator = torch.Generator(device=device).manual_seed(0)
        with torch.no_grad():
            z = temperature * model.base.sample(16, generator=generator, device=device)
            samples = model.transform.inverse(z)
        plot_image_grid(ax, samples, nrow=4, title=f"{arch}, T = {temperature}")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Paths in latent space between held-out digits
#
# The flow maps an image to a latent $z = f(x)$ of the same dimension and back exactly. Walking on the
# straight line $z_t = (1 - t)\, z_0 + t\, z_1$ between the latents of two held-out digits and mapping
# each point back gives a path of images. The end points are reconstructed exactly (the flow is
# invertible); what lies between shows how the model arranges digits in latent space.
#
# NICE's path looks much like a cross-fade in pixel space. Glow's fades in the middle, for the reason
# its low-temperature samples fade: for two nearly independent latents of the same length, the
# midpoint $(z_0 + z_1)/2$ has about $1/\sqrt{2}$ of that length, so it lies closer to the mode, the
# empty background. Interpolating on the sphere instead of the line keeps the length constant.

# %% alt="Latent interpolations, NICE above and Glow below: four rows of eight images each, going from a held-out 0 to a 1, a 3 to an 8, a 4 to a 9 and a 7 to a 1. NICE's rows look like a cross-fade of the two digits; Glow's rows fade to a nearly black image in the middle."
pairs = [(0, 1), (3, 8), (4, 9), (7, 1)]
first = {d: int(torch.nonzero(test_labels == d)[0]) for d in range(10)}
ts = torch.linspace(0, 1, 8, device=device)
fig, axes = plt.subplots(2, 1, figsize=(5.8, 6.6))
for ax, arch in zip(axes, ("nice", "glow"), strict=True):
    model = models[arch]
    rows = []
    for a, b in pairs:
        x = to_unit_interval(test_images[[first[a], first[b]]]).to(device)
        with torch.no_grad():
            z, _ = model.transform(x)
            path = torch.stack([torch.lerp(z[0], z[1], t) for t in ts])
            rows.append(model.transform.inverse(path))
    plot_image_grid(ax, torch.cat(rows), nrow=len(ts), title=f"{arch}: latent interpolation")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## What the numbers mean
#
# Published flows reach about 1.0 to 1.1 bits/dim on MNIST (RealNVP 1.06, Glow 1.05 in the tables of
# later papers) after training for hours or days on the 60,000 training images with models of
# millions of parameters. The numbers above are far worse, and for a reason that has nothing to do
# with the mathematics: 4,000 images, a model small enough for a laptop, and a few CPU minutes. The
# page [Training a flow](../flows/training.md) lists what closes the gap; `scripts/train_flow.py` runs
# the same training for longer, on full MNIST (`--source full`), on a GPU (`--device cuda`) or on
# several processes (`torchrun`).
