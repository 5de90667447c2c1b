"""Training flows by maximum likelihood: the loop, atomic checkpoints, multi-process data parallelism,
and the project's pretrained MNIST flows."""

from dnnf.training.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    OutputLockedError,
    check_config,
    load_checkpoint,
    save_checkpoint,
)
from dnnf.training.distributed import init_distributed, rank_and_world_size, rank_slice
from dnnf.training.loop import TrainResult, evaluate_bits_per_dim, train_flow
from dnnf.training.pretrained import (
    PRETRAINED_RECIPES,
    load_or_train_mnist_flow,
    pretrained_cache_key,
    pretrained_checkpoint_path,
)

__all__ = [
    "CHECKPOINT_NAME",
    "CheckpointError",
    "OutputLockedError",
    "PRETRAINED_RECIPES",
    "TrainResult",
    "check_config",
    "evaluate_bits_per_dim",
    "init_distributed",
    "load_checkpoint",
    "load_or_train_mnist_flow",
    "pretrained_cache_key",
    "pretrained_checkpoint_path",
    "rank_and_world_size",
    "rank_slice",
    "save_checkpoint",
    "train_flow",
]
