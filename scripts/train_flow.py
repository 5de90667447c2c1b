"""Train a flow on MNIST by maximum likelihood; resumable; one process or several under torchrun.

Examples
--------
One process on the CPU (the default), offline 4,000-image split::

    python scripts/train_flow.py --arch glow --steps 2000 --out runs/glow

Two CPU processes (gloo), same global batch of 64 split 32 + 32::

    torchrun --nproc_per_node=2 scripts/train_flow.py --arch glow --steps 2000 --out runs/glow

Four GPUs (NCCL), full MNIST::

    torchrun --nproc_per_node=4 scripts/train_flow.py --arch glow --device cuda --source full --out runs/g

Run the same command again after an interruption and it resumes from ``<out>/checkpoint.pt``.

The project's pretrained model of a recipe, exactly as ``dnnf.training.load_or_train_mnist_flow(arch)``
trains it, into the pretrained cache (``$DNNF_CACHE_DIR/flows/``); prints its path and checksum::

    python scripts/train_flow.py --arch glow_smoothed --pretrained
"""

from __future__ import annotations

import argparse
import hashlib

import torch
import torch.distributed as dist

from dnnf.data import load_mnist
from dnnf.flows import build_model
from dnnf.training import (
    PRETRAINED_RECIPES,
    CheckpointError,
    OutputLockedError,
    init_distributed,
    load_or_train_mnist_flow,
    pretrained_checkpoint_path,
    train_flow,
)


def weights_sha256(model: torch.nn.Module) -> str:
    """SHA-256 of the model's weights (names and bytes, in order), independent of how the file was pickled."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode() + b"\0" + tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def train_pretrained(arch: str) -> None:
    """Train (or find) the pretrained ``arch`` model in the cache; print its path and weights' checksum."""
    model = load_or_train_mnist_flow(arch, progress=False)
    # Of the weights, not of the file: the checkpoint also holds optimiser and RNG state, and two runs
    # of one recipe on one machine and torch build give the same weights but not always the same file.
    print(f"{arch}: {pretrained_checkpoint_path(arch)}\nweights sha256 {weights_sha256(model)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=sorted(PRETRAINED_RECIPES), default="nice")
    parser.add_argument("--steps", type=int, help="total optimisation steps")
    parser.add_argument("--batch-size", type=int, help="global batch size (all processes)")
    parser.add_argument("--lr", type=float, help="Adam learning rate")
    parser.add_argument("--grad-clip", type=float, help="maximum gradient norm")
    parser.add_argument("--noise-std", type=float, help="Gaussian noise added to the training images")
    parser.add_argument("--seed", type=int, help="seed of the initial weights and of the batches")
    parser.add_argument("--out", help="output folder (checkpoint.pt is written there)")
    parser.add_argument("--pretrained", action="store_true",
                        help="train the recipe's pretrained model into the cache (no other option allowed)")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--source", choices=["offline", "full"], default="offline", help="which MNIST")
    parser.add_argument("--eval-every", type=int, default=500, help="steps between held-out evaluations")
    parser.add_argument("--checkpoint-every", type=int, default=250, help="steps between checkpoints")
    args = parser.parse_args(argv)
    if args.pretrained:
        changed = [a for a in ("steps", "batch_size", "lr", "grad_clip", "noise_std", "seed", "out")
                   if getattr(args, a) is not None]
        if changed or args.source != "offline" or args.device != "cpu":
            parser.error("--pretrained trains the recipe as it is: give only --arch")
        train_pretrained(args.arch)
        return
    if args.out is None:
        parser.error("--out is required (or --pretrained)")
    # Unset options take the pretrained recipe's values, so that the defaults reproduce the checkpoint
    # of dnnf.training.load_or_train_mnist_flow(arch) exactly.
    recipe = PRETRAINED_RECIPES[args.arch]
    keys = dict.fromkeys([*recipe["train"], "noise_std"])  # noise_std may be added to any recipe
    train = {key: getattr(args, key) for key in keys if getattr(args, key) is not None}
    train = {**recipe["train"], **train}
    config = {
        "name": recipe["config"]["name"],
        "kwargs": {**recipe["config"]["kwargs"], "seed": train["seed"]},
    }

    try:
        device = torch.device(args.device)
    except RuntimeError:
        parser.error(f"--device {args.device!r} is not a device torch knows (cpu, cuda, cuda:<index>)")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda was asked for but torch.cuda.is_available() is False")
    rank, world_size, device = init_distributed(device)
    try:
        model = build_model(config).to(device)
        train_images, _ = load_mnist("train", source=args.source)
        eval_images, _ = load_mnist("test", source=args.source)
        try:
            result = train_flow(
                model, train_images, **train, eval_images=eval_images,
                eval_every=args.eval_every, checkpoint_dir=args.out,
                checkpoint_every=args.checkpoint_every, progress=True,
            )  # fmt: skip
        except (OutputLockedError, CheckpointError) as err:
            # another run writes to --out, or its checkpoint is unusable: a message, not a traceback
            raise SystemExit(f"train_flow.py: {err}") from err
        if rank == 0:
            for step, bpd in result.eval_bpd:
                print(f"step {step}: held-out {bpd:.4f} bits/dim")
            print(f"{world_size} process(es); checkpoint: {result.checkpoint}")
    finally:
        if world_size > 1:
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
