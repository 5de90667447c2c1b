r"""Maximum-likelihood training of a flow on dequantized images, with resumable checkpoints.

Each step draws a batch of $B$ images $k^{(i)}$, dequantizes them, $x^{(i)} = (k^{(i)} + u^{(i)})/256$,
and takes an Adam step on the mean negative log-likelihood in bits per dimension,

$$
L(\theta) = \frac{1}{B}\sum_{i=1}^{B} \operatorname{bpd}\bigl(\log p_\theta(x^{(i)})\bigr), \qquad
\operatorname{bpd}(\ell) = -\frac{\ell - D\log 256}{D \log 2},
$$

(see [`dnnf.flows.bits_per_dim`][]), after clipping the gradient's Euclidean norm; $\mathbb{E}_u[L]$ bounds
the bits per dimension of the discrete model ([The objective and the loop][the-objective-and-the-loop]).
With ``noise_std`` $= s > 0$ the images also get Gaussian noise, so the flow fits the smoothed density
$p_{\text{data}} * \mathcal N(0, s^2 I)$ ([Training on smoothed data][training-on-smoothed-data]).
"""

from __future__ import annotations

import math
import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from dnnf._validation import check_int, check_positive, check_positive_int, check_seed
from dnnf.data import dequantize
from dnnf.flows.metrics import bits_per_dim
from dnnf.training.checkpoint import (
    CHECKPOINT_NAME,
    check_config,
    load_checkpoint,
    output_lock,
    remove_stale_temporaries,
    require_training_state,
    save_checkpoint,
)
from dnnf.training.distributed import rank_and_world_size, rank_slice

__all__ = ["TrainResult", "evaluate_bits_per_dim", "train_flow"]


@dataclass
class TrainResult:
    """What [`train_flow`][dnnf.training.train_flow] returns.

    Attributes
    ----------
    model : nn.Module
        The trained model (the same object that was passed in).
    step : int
        Number of optimisation steps taken in total, resumed ones included.
    train_bpd : list of float
        Training loss (bits/dim of the global batch) of every step.
    eval_bpd : list of tuple
        ``(step, held-out bits/dim)`` pairs.
    checkpoint : Path or None
        The checkpoint file, if a checkpoint folder was given.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import nice_mnist
    >>> gen = torch.Generator().manual_seed(0)
    >>> images = torch.randint(0, 256, (64, 1, 4, 4), dtype=torch.uint8, generator=gen)
    >>> model = nice_mnist(image_shape=(1, 4, 4), hidden=16, num_hidden_layers=1)
    >>> from dnnf.training import train_flow
    >>> result = train_flow(model, images, steps=4, batch_size=16, eval_images=images, eval_every=2,
    ...                     progress=False)
    >>> result.step, [step for step, _ in result.eval_bpd], result.checkpoint is None
    (4, [2, 4], True)
    """

    model: nn.Module
    step: int
    train_bpd: list[float] = field(default_factory=list)
    eval_bpd: list[tuple[int, float]] = field(default_factory=list)
    checkpoint: Path | None = None


def _check_images(name: str, images: torch.Tensor) -> None:
    if not torch.is_tensor(images) or images.dtype != torch.uint8:
        raise TypeError(f"{name} must be a uint8 tensor of pixel levels, shape (N, C, H, W)")
    if images.dim() != 4 or images.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, C, H, W) with N >= 1, got {tuple(images.shape)}")


def _check_finite_state(
    tensors: dict[str, torch.Tensor], step: int, lr: float, path: Path | None
) -> None:
    flags = [torch.isfinite(t).all() for t in tensors.values() if t.is_floating_point()]
    if not flags or bool(torch.stack(flags).all()):
        return
    bad = [name for name, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    kept = f"nothing from this step was saved to {path}" if path is not None else "nothing was saved"
    raise FloatingPointError(
        f"parameters became non-finite (NaN or inf) at step {step}: {', '.join(bad[:5])}; {kept}. "
        f"Lower lr (now {lr}) or grad_clip."
    )


def _num_dims(images: torch.Tensor) -> int:
    return math.prod(images.shape[1:])


@torch.no_grad()
def evaluate_bits_per_dim(
    model: nn.Module, images: torch.Tensor, batch_size: int = 500, seed: int = 0, return_stderr: bool = False
) -> float | tuple[float, float]:
    r"""Held-out bits per dimension of ``model`` on ``images``, averaged over all images.

    Each image is dequantized once with noise from a generator seeded with ``seed`` (so the number is
    reproducible), and the result is the mean of [`dnnf.flows.bits_per_dim`][] over the images: an
    unbiased one-sample estimate of $\mathbb{E}_u[\operatorname{bpd}]$, the bound papers report. Inside
    a process group every process scores its share and the sums are all-reduced.

    Parameters
    ----------
    model : nn.Module
        Has ``log_prob(x) -> (batch,)``.
    images : torch.Tensor
        ``uint8`` tensor of shape ``(N, C, H, W)``.
    batch_size : int
        Images per forward pass.
    seed : int
        Seed of the dequantization noise.
    return_stderr : bool
        Also return the standard error of the mean over the images, $s/\sqrt{N}$ with $s$ the
        sample standard deviation of the per-image bits per dimension.

    Returns
    -------
    float or tuple of float
        Mean bits per dimension, or ``(mean, standard error)``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.flows import nice_mnist
    >>> gen = torch.Generator().manual_seed(0)
    >>> images = torch.randint(0, 256, (64, 1, 4, 4), dtype=torch.uint8, generator=gen)
    >>> model = nice_mnist(image_shape=(1, 4, 4), hidden=16, num_hidden_layers=1)
    >>> from dnnf.training import evaluate_bits_per_dim
    >>> bpd, stderr = evaluate_bits_per_dim(model, images, return_stderr=True)
    >>> round(bpd, 3), stderr > 0, evaluate_bits_per_dim(model, images) == bpd  # seeded: reproducible
    (8.306, True, True)
    """
    _check_images("images", images)
    if not isinstance(model, nn.Module) or not callable(getattr(model, "log_prob", None)):
        raise TypeError(f"model must be an nn.Module with a log_prob method, got {type(model).__name__}")
    batch_size = check_positive_int("batch_size", batch_size)
    seed = check_seed("seed", seed)
    reference = next(model.parameters())
    was_training = model.training
    model.eval()
    rank, world_size = rank_and_world_size()
    generator = torch.Generator().manual_seed(seed)
    x_all = dequantize(images.cpu(), generator=generator)  # CPU noise: the same numbers on any device
    mine = torch.arange(rank, len(images), world_size)
    device = reference.device
    total = torch.zeros(3, dtype=torch.float64, device=device)  # (count, sum, sum of squares)
    for start in range(0, len(mine), batch_size):
        x = x_all[mine[start : start + batch_size]].to(device=device, dtype=reference.dtype)
        bpd = bits_per_dim(model.log_prob(x), num_dims=_num_dims(images)).double()
        total += torch.stack([torch.tensor(float(len(x)), device=device), bpd.sum(), bpd.pow(2).sum()])
    if world_size > 1:
        dist.all_reduce(total)
    model.train(was_training)
    n, mean = float(total[0]), float(total[1] / total[0])
    if not return_stderr:
        return mean
    variance = max(float(total[2]) - n * mean**2, 0.0) / max(n - 1, 1)
    return mean, math.sqrt(variance / n)


def train_flow(
    model: nn.Module,
    train_images: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    grad_clip: float = 100.0,
    noise_std: float = 0.0,
    eval_images: torch.Tensor | None = None,
    eval_every: int = 0,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 100,
    progress: bool = True,
) -> TrainResult:
    r"""Train ``model`` by maximum likelihood for ``steps`` Adam steps, resuming from a checkpoint if present.

    The model stays on the device it is on (move it first, e.g. ``model.to(default_device())``), and
    batches are cast to its dtype (a ``model.double()`` trains in double precision). Batches
    are drawn with replacement from ``train_images`` by a generator seeded with ``seed``; the same
    generator draws the dequantization noise. If ``<checkpoint_dir>/checkpoint.pt`` exists the run
    continues from it (same architecture and hyper-parameters required) and reaches the same parameters
    as an uninterrupted run. Under `torch.distributed` (e.g. ``torchrun``) the model is wrapped in
    DistributedDataParallel, each process trains on its slice of the same global batch of ``batch_size``
    images (see [`dnnf.training.distributed`][]), and only rank 0 writes checkpoints.

    The objective: [The objective and the loop][the-objective-and-the-loop]; resuming:
    [Checkpoints and interruptions][checkpoints-and-interruptions].

    Parameters
    ----------
    model : nn.Module
        A flow with ``log_prob(x) -> (batch,)``, ``forward = log_prob`` and a ``config`` attribute.
    train_images : torch.Tensor
        ``uint8`` tensor of shape ``(N, C, H, W)``.
    steps : int
        Total number of steps (a resumed run continues up to this number).
    batch_size : int
        Global batch size (divisible by the number of processes).
    lr : float
        Adam learning rate.
    seed : int
        Seed of the batch indices and dequantization noise.
    grad_clip : float
        Maximum Euclidean norm of the gradient.
    noise_std : float
        Standard deviation $s \ge 0$ of Gaussian noise added to every dequantized training image (drawn
        from the same seeded generator); 0 for none. The model must accept values outside $[0, 1]$
        (e.g. built with ``logit_alpha=None``); held-out images are still scored clean.
    eval_images : torch.Tensor, optional
        Held-out ``uint8`` images; scored with [`evaluate_bits_per_dim`][dnnf.training.evaluate_bits_per_dim]
        every ``eval_every`` steps (if ``eval_every > 0``) and at the end.
    eval_every : int
        Steps between held-out evaluations (0: only at the end).
    checkpoint_dir : path, optional
        Folder of ``checkpoint.pt``, written atomically every ``checkpoint_every`` steps and at the end.
    checkpoint_every : int
        Steps between checkpoints.
    progress : bool
        Show a tqdm progress bar (rank 0 only).

    Returns
    -------
    TrainResult
        The model, the step count and the loss history.

    Raises
    ------
    FloatingPointError
        If the loss or the gradient norm is NaN or infinite; the model is left at the last finite step.
        Also if a step makes a parameter non-finite: the run stops at that step and saves nothing.

    Examples
    --------
    Fifty steps on random 4-by-4 "images" lower the held-out bits per dimension:

    >>> import torch
    >>> from dnnf.flows import nice_mnist
    >>> gen = torch.Generator().manual_seed(0)
    >>> images = torch.randint(0, 256, (64, 1, 4, 4), dtype=torch.uint8, generator=gen)
    >>> model = nice_mnist(image_shape=(1, 4, 4), hidden=16, num_hidden_layers=1)
    >>> from dnnf.training import evaluate_bits_per_dim, train_flow
    >>> before = evaluate_bits_per_dim(model, images)
    >>> result = train_flow(model, images, steps=50, batch_size=16, lr=1e-2, progress=False)
    >>> result.step, len(result.train_bpd), evaluate_bits_per_dim(model, images) < before
    (50, 50, True)
    """
    _check_images("train_images", train_images)
    if eval_images is not None:
        _check_images("eval_images", eval_images)
        if eval_images.shape[1:] != train_images.shape[1:]:
            raise ValueError(
                f"eval_images must have image shape {tuple(train_images.shape[1:])}, "
                f"got {tuple(eval_images.shape[1:])}"
            )
    steps, batch_size = check_positive_int("steps", steps), check_positive_int("batch_size", batch_size)
    eval_every = check_int("eval_every", eval_every, minimum=0)
    checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=0)
    lr = check_positive("lr", lr)
    grad_clip = check_positive("grad_clip", grad_clip, allow_inf=True)  # inf: no clipping
    noise_std = check_positive("noise_std", noise_std, allow_zero=True)
    seed = check_seed("seed", seed)
    if not isinstance(model, nn.Module) or not callable(getattr(model, "log_prob", None)):
        raise TypeError(f"model must be an nn.Module with a log_prob method, got {type(model).__name__}")
    if checkpoint_dir is not None and Path(checkpoint_dir).exists() and not Path(checkpoint_dir).is_dir():
        # noticed now, not after the whole run when the first checkpoint is written
        raise ValueError(f"checkpoint_dir must be a folder, but {checkpoint_dir} is an existing file")
    writer = checkpoint_dir is not None and rank_and_world_size()[0] == 0
    with output_lock(checkpoint_dir) if writer else nullcontext():
        if writer:
            remove_stale_temporaries(checkpoint_dir)  # left by a run killed mid-write; no write runs now
        train_images = train_images.cpu()  # batches and noise are drawn on the CPU: same run on any device
        config = getattr(model, "config", None)
        rank, world_size = rank_and_world_size()
        device, dtype = next(model.parameters()).device, next(model.parameters()).dtype
        num_dims = _num_dims(train_images)
        train_args = {"batch_size": batch_size, "lr": lr, "seed": seed, "grad_clip": grad_clip}
        if noise_std > 0:  # stored only when used, so checkpoints of noise-free runs keep their old form
            train_args["noise_std"] = float(noise_std)

        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        generator = torch.Generator().manual_seed(seed)
        result = TrainResult(model=model, step=0)
        path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
        if path is not None and path.is_file():
            state = load_checkpoint(path, expected_config=config, map_location=device)
            require_training_state(state, path)
            check_config(state["train_args"], train_args, source=str(path), what="training hyper-parameters")
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            generator.set_state(state["rng"]["batches"])
            torch.set_rng_state(state["rng"]["torch"])
            result.step = int(state["step"])
            result.train_bpd = list(state["metrics"]["train_bpd"])
            result.eval_bpd = [(int(s), float(b)) for s, b in state["metrics"]["eval_bpd"]]
        result.checkpoint = path

        def checkpoint() -> None:
            if path is None or rank != 0:
                return
            _check_finite_state(model.state_dict(), result.step, lr, path)  # buffers too
            save_checkpoint(
                {
                    "config": config,
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "step": result.step,
                    "rng": {"batches": generator.get_state(), "torch": torch.get_rng_state()},
                    "train_args": train_args,
                    "metrics": {
                        "train_bpd": result.train_bpd,
                        "eval_bpd": [list(e) for e in result.eval_bpd],
                    },
                },
                path,
            )

        def draw_global_batch() -> torch.Tensor:
            index = torch.randint(len(train_images), (batch_size,), generator=generator)
            x = dequantize(train_images[index], generator=generator)
            if noise_std > 0:
                x = x + noise_std * torch.randn(x.shape, generator=generator)
            return x

        model.train()
        net: nn.Module = model
        if result.step == 0:
            # Data-dependent initialisation (ActNorm) runs in the first forward pass. Do it here, on the
            # first batch, before any DDP wrapping, so that every process initialises identically.
            saved = generator.get_state()
            with torch.no_grad():
                model.log_prob(draw_global_batch().to(device=device, dtype=dtype))
            generator.set_state(saved)
        if world_size > 1:
            net = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)

        quiet = not progress or rank != 0
        bar = tqdm(range(result.step, steps), initial=result.step, total=steps, disable=quiet)
        for _ in bar:
            x = rank_slice(draw_global_batch(), rank, world_size).to(device=device, dtype=dtype)
            loss = bits_per_dim(net(x), num_dims=num_dims).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
            reported = loss.detach().clone()
            if world_size > 1:
                dist.all_reduce(reported)  # every process sees the same value, so all stop together
                reported /= world_size
            if not (math.isfinite(float(reported)) and math.isfinite(float(grad_norm))):
                raise FloatingPointError(
                    f"non-finite training loss {float(reported)} (gradient norm {float(grad_norm)}) at step "
                    f"{result.step + 1}; parameters are those after step {result.step}. Lower lr "
                    f"(now {lr}) or grad_clip, or resume from the last checkpoint."
                )
            optimizer.step()
            result.step += 1
            # A finite loss and gradient can still give non-finite parameters (e.g. a huge lr): stop here,
            # before they are scored, trained on, or saved.
            _check_finite_state(dict(model.named_parameters()), result.step, lr, path)
            result.train_bpd.append(float(reported))
            bar.set_postfix(bpd=f"{float(reported):.3f}")
            due = eval_every and result.step % eval_every == 0 and result.step < steps
            if eval_images is not None and due:
                result.eval_bpd.append((result.step, evaluate_bits_per_dim(model, eval_images)))
            if checkpoint_every and result.step % checkpoint_every == 0:
                checkpoint()
        bar.close()
        if eval_images is not None and (not result.eval_bpd or result.eval_bpd[-1][0] != result.step):
            result.eval_bpd.append((result.step, evaluate_bits_per_dim(model, eval_images)))
        checkpoint()
        return result
