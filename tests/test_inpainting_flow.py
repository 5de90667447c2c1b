"""Inpainting with real flows (docs/inpainting/index.md): a small random NICE for the mechanics, the
project's pretrained MNIST flow (when cached) for the quality claim."""

from __future__ import annotations

import pytest
import torch

from dnnf.data import load_mnist, to_unit_interval
from dnnf.flows import nice_mnist
from dnnf.inpainting import (
    PLAIN_SGD_RECIPE,
    centre_square_mask,
    half_mask,
    inpaint,
    langevin_inpaint,
    mean_fill,
    psnr,
    random_pixel_mask,
)
from dnnf.training import pretrained_checkpoint_path

SIDE = 8


class Recorder:
    """Wraps a model and keeps every point it is evaluated at."""

    def __init__(self, model):
        self.model, self.calls = model, []

    def log_prob(self, x):
        self.calls.append(x.detach().clone())
        return self.model.log_prob(x)


@pytest.fixture(scope="module")
def small_flow():
    model = nice_mnist(image_shape=(1, SIDE, SIDE), num_couplings=4, hidden=32, num_hidden_layers=2, seed=0)
    return model.double().eval().requires_grad_(False)


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(0)
    return torch.rand(5, 1, SIDE, SIDE, generator=g, dtype=torch.float64)


@pytest.mark.claim("inpainting/index.md#eq-3")
def test_flow_iterates_stay_in_the_box(small_flow, images):
    """docs/inpainting/index.md eq. (3): every iterate keeps the known pixels and lies in [0, 1]."""
    known = random_pixel_mask((5, 1, SIDE, SIDE), 0.5, torch.Generator().manual_seed(1))
    rec = Recorder(small_flow)
    inpaint(rec, images, known, optimizer="sgd", lr=0.05, num_steps=20, schedule="constant", tol=None)
    assert len(rec.calls) == 21
    for x in rec.calls:
        assert torch.equal(x[known], images[known])
        assert bool(((x >= 0) & (x <= 1)).all())


@pytest.mark.claim("inpainting/index.md#eq-4")
def test_small_step_ascent_is_monotone_on_a_flow(small_flow, images):
    """docs/inpainting/index.md eq. (4): with a step below 2/L the log-likelihood never decreases."""
    known = centre_square_mask(SIDE, SIDE, 4)
    result = inpaint(small_flow, images, known, optimizer="sgd", lr=1e-4, num_steps=40, schedule="constant",
                     tol=None, init="zeros")  # fmt: skip
    assert bool((result.log_prob.diff(dim=0) >= -1e-9).all())
    assert bool((result.log_prob[-1] > result.log_prob[0] + 1e-3).all())


@pytest.mark.claim("inpainting/index.md#eq-4")
def test_flow_batch_equals_one_image_at_a_time(small_flow, images):
    """docs/inpainting/index.md, eq. (4): the images of a batch do not interact (float64, so only
    rounding differs)."""
    known = half_mask("top", SIDE, SIDE)
    kwargs = {"lr": 0.02, "num_steps": 60, "tol": 1e-5, "patience": 5}
    batch = inpaint(small_flow, images, known, **kwargs)
    for b in range(images.shape[0]):
        single = inpaint(small_flow, images[b : b + 1], known, **kwargs)
        assert single.num_steps[0] == batch.num_steps[b]
        torch.testing.assert_close(single.images[0], batch.images[b], atol=1e-9, rtol=0)


@pytest.mark.claim("inpainting/index.md", note="input checks")
def test_model_of_another_size_is_rejected(small_flow):
    """docs/inpainting/index.md: a model for 8 x 8 images cannot inpaint 28 x 28 ones."""
    with pytest.raises(ValueError, match="could not evaluate images of shape"):
        inpaint(small_flow, torch.rand(2, 1, 28, 28, dtype=torch.float64), centre_square_mask())


@pytest.mark.claim("inpainting/conditional-mean.md#eq-8")
def test_langevin_on_a_flow_is_feasible_and_reproducible(small_flow, images):
    """docs/inpainting/conditional-mean.md eq. (8): known pixels exact, values in [0, 1], seeded noise."""
    known = centre_square_mask(SIDE, SIDE, 4)

    def run(seed):
        return langevin_inpaint(small_flow, images[:2], known, num_chains=3, step_size=1e-4, num_steps=10,
                                generator=torch.Generator().manual_seed(seed))  # fmt: skip

    a, b, c = run(0), run(0), run(1)
    assert a.samples.shape == (3, 2, 1, SIDE, SIDE) and a.log_prob.shape == (11, 3, 2)
    assert torch.equal(a.samples, b.samples) and not torch.equal(a.samples, c.samples)
    assert torch.equal(a.samples[:, :, :, known], images[:2, :, known].expand(3, -1, -1, -1))
    assert bool(((a.samples >= 0) & (a.samples <= 1)).all())


@pytest.mark.claim("inpainting/index.md#results-on-100-held-out-digits", "inpainting/index.md#errata")
@pytest.mark.slow
@pytest.mark.skipif(not pretrained_checkpoint_path("nice").is_file(),
                    reason="needs the cached pretrained NICE (built by the flows tutorial)")  # fmt: skip
def test_pretrained_flow_beats_mean_fill():
    """docs/inpainting/index.md, Results and errata: on 16 held-out digits with half of the pixels
    missing at random, Adam's completion beats mean fill on hole PSNR and reaches a higher likelihood
    than the plain SGD recipe, which leaves most hole pixels where they started (at 0)."""
    from dnnf.training import load_or_train_mnist_flow

    model = load_or_train_mnist_flow("nice", progress=False).requires_grad_(False)
    images = to_unit_interval(load_mnist("test")[0][:16])
    known = random_pixel_mask((16, 1, 28, 28), 0.5, torch.Generator().manual_seed(0))
    flow = inpaint(model, images, known, lr=0.03, num_steps=150)
    gain = psnr(flow.images, images, known) - psnr(mean_fill(images, known), images, known)
    assert gain.mean() > 2.0
    plain = inpaint(model, images, known, **PLAIN_SGD_RECIPE)
    assert flow.log_prob[-1].mean() > plain.log_prob[-1].mean()
    moved = (plain.images - torch.where(known, images, 0.0)).abs()[~known]
    assert (moved > 0.01).float().mean() < 0.2


@pytest.mark.claim(
    "inpainting/smoothed-models.md#eq-13",
    "inpainting/smoothed-models.md#results-on-100-held-out-digits",
)
@pytest.mark.slow
@pytest.mark.skipif(not pretrained_checkpoint_path("nice_smoothed").is_file(),
                    reason="needs the cached smoothed NICE (built by the inpainting tutorial)")  # fmt: skip
def test_smoothed_nice_beats_the_mean_image_by_3_db_on_the_left_half():
    """docs/inpainting/smoothed-models.md (13): on 20 held-out digits with the left half missing,
    projected Adam on the smoothed NICE beats the training set's mean image by more than 3 dB of hole
    PSNR (the benchmark measures +3.6 dB on 100 digits)."""
    from dnnf.training import load_or_train_mnist_flow

    smoothed = load_or_train_mnist_flow("nice_smoothed", progress=False).requires_grad_(False)
    images = to_unit_interval(load_mnist("test")[0][:20])
    mean_image = to_unit_interval(load_mnist("train")[0]).mean(dim=0)
    known = half_mask("left")
    ours = psnr(inpaint(smoothed, images, known).images, images, known)
    assert (ours - psnr(mean_fill(images, known, mean_image), images, known)).mean() > 3.0


@pytest.mark.claim(
    "inpainting/index.md#results-on-100-held-out-digits",
    "inpainting/index.md#eq-6",
    "inpainting/conditional-mean.md#results-on-the-standard-nice",
    "inpainting/kde-yardstick.md",
    note="the comparison table",
)
def test_comparison_table_runs_every_method(small_flow, images):
    """docs/inpainting/index.md, Results: the table's methods keep the known pixels and are scored on the
    hole (eq. (6)); the Langevin mean, MALA mean and KDE yardstick appear only when asked for."""
    from dnnf.inpainting import format_psnr_table, inpainting_methods, psnr_table

    masks = {"centre": centre_square_mask(SIDE, SIDE, 4), "top": half_mask("top", SIDE, SIDE)}
    langevin = {
        "num_chains": 2,
        "step_size": 1e-4,
        "num_steps": 3,
        "generator": torch.Generator().manual_seed(0),
    }
    mala = {"num_chains": 2, "num_steps": 4, "generator": torch.Generator().manual_seed(0)}
    kde = (torch.rand(6, 1, SIDE, SIDE, generator=torch.Generator().manual_seed(1), dtype=torch.float64), 0.5)
    methods = inpainting_methods(small_flow, None, langevin, mala, kde, num_steps=5)
    assert list(methods) == [
        "mean fill", "diffusion fill", "plain SGD", "projected Adam", "Langevin mean", "MALA mean",
        "KDE yardstick",
    ]  # fmt: skip
    assert list(inpainting_methods(small_flow)) == list(methods)[:4]
    scores, outputs = psnr_table(methods, images, masks)
    for kind, known in masks.items():
        for name, out in outputs[kind].items():
            assert torch.equal(out[:, :, known], images[:, :, known])
            torch.testing.assert_close(scores[kind][name], psnr(out, images, known))
    table = format_psnr_table(scores).splitlines()
    assert len(table) == 2 + len(masks) and table[0].count("|") == len(methods) + 2
