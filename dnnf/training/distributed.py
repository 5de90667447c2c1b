r"""Data parallelism across processes: the same global batch, sliced by rank.

Every process draws the *same* global batch of $B$ images (same seed, same generator) and keeps the
rows of its own slice; with $W$ processes of $B/W$ rows each, the mean of the per-process gradients
that `torch.nn.parallel.DistributedDataParallel` all-reduces is the gradient of the global-batch
mean,

$$
\frac{1}{W}\sum_{r=1}^{W} \nabla \frac{W}{B}\sum_{i \in S_r} \ell_i
= \nabla \frac{1}{B}\sum_{i=1}^{B} \ell_i ,
$$

so a run on $W$ processes takes the same steps as a single-process run on the same global batch (up to
the rounding of the reduction).
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from dnnf._validation import check_int

__all__ = ["init_distributed", "rank_and_world_size", "rank_slice"]


def init_distributed(device: torch.device | str | None = None) -> tuple[int, int, torch.device]:
    """Join the process group that ``torchrun`` describes in the environment, if any.

    Reads ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``. With ``WORLD_SIZE > 1`` it initialises
    `torch.distributed` with the NCCL backend on CUDA and gloo on the CPU; on CUDA each process
    takes the GPU ``cuda:<LOCAL_RANK>``. Without ``torchrun`` it does nothing.

    See [Several processes][several-processes].

    Parameters
    ----------
    device : torch.device or str, optional
        The device asked for (default: the CPU).

    Returns
    -------
    rank : int
        This process's rank (0 without ``torchrun``).
    world_size : int
        Number of processes (1 without ``torchrun``).
    device : torch.device
        The device this process should use.

    Examples
    --------
    Without ``torchrun`` (no ``WORLD_SIZE`` in the environment) there is one process:

    >>> from dnnf.training import init_distributed
    >>> init_distributed("cpu")
    (0, 1, device(type='cpu'))
    """
    device = torch.device(device if device is not None else "cpu")
    world_size = _env_int("WORLD_SIZE", "1", minimum=1)
    if world_size <= 1:
        return 0, 1, device
    _env_int("RANK", "0", minimum=0, maximum=world_size - 1)
    if device.type == "cuda":
        device = torch.device("cuda", _env_int("LOCAL_RANK", "0", minimum=0))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def _env_int(variable: str, default: str, minimum: int, maximum: int | None = None) -> int:
    # torchrun sets these; a hand-set WORLD_SIZE=two used to fail later inside torch.distributed
    raw = os.environ.get(variable, default)
    accepted = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{variable}={raw!r} is not valid; accepted values: {accepted}, as torchrun sets it")
    return value


def rank_and_world_size() -> tuple[int, int]:
    """Return ``(rank, world_size)`` of the initialised process group, or ``(0, 1)`` without one.

    Examples
    --------
    >>> from dnnf.training import rank_and_world_size
    >>> rank_and_world_size()  # no process group
    (0, 1)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def rank_slice(batch: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Return process ``rank``'s contiguous share of a global batch whose size ``world_size`` divides.

    Parameters
    ----------
    batch : torch.Tensor
        The global batch, first dimension $B$.
    rank, world_size : int
        This process's rank and the number of processes.

    Returns
    -------
    torch.Tensor
        Rows ``rank * B/W`` to ``(rank + 1) * B/W - 1``.

    Examples
    --------
    >>> import torch
    >>> from dnnf.training import rank_slice
    >>> rank_slice(torch.arange(8), rank=1, world_size=4).tolist()
    [2, 3]
    """
    if not torch.is_tensor(batch) or batch.dim() == 0:
        raise TypeError(f"batch must be a torch.Tensor with a batch dimension, got {type(batch).__name__}")
    check_int("rank", rank, minimum=0)
    check_int("world_size", world_size, minimum=1)
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank must be in 0..world_size-1 and world_size >= 1, got {rank}, {world_size}")
    if batch.shape[0] % world_size:
        raise ValueError(
            f"batch size {batch.shape[0]} must be divisible by the number of processes {world_size}"
        )
    share = batch.shape[0] // world_size
    return batch[rank * share : (rank + 1) * share]
