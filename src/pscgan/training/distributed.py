"""Single-process and ``torchrun`` multi-process training: context, seeds, reductions.

``torchrun --nproc_per_node=K -m pscgan.train ...`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`init_distributed` reads them, initialises the process group (NCCL on GPUs, gloo on CPU) and
picks the device. Without those variables everything runs in one process and the helpers here are
no-ops, so the trainer never special-cases the two.

Example:
    >>> ctx = init_distributed(device="cpu")
    >>> ctx.world_size, ctx.is_main
    (1, True)
    >>> rank_seed(1234, 0) != rank_seed(1234, 1)
    True
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in a (possibly single-process) run."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def single_process(device: str | torch.device = "cpu") -> DistContext:
    """The context of a run in one process (no process group) on ``device``."""
    return DistContext(rank=0, world_size=1, local_rank=0, device=torch.device(device))


def init_distributed(device: str | None = None, backend: str | None = None) -> DistContext:
    """Initialise from torchrun's environment variables, or return a single-process context.

    ``RANK`` (global, 0 .. world size - 1) decides which process writes and how the data is sharded;
    ``LOCAL_RANK`` (0 .. processes on this node - 1) picks the GPU, so the same command works on one
    node and on several.

    Args:
        device: ``"cpu"``, ``"cuda"`` or ``None`` (CUDA when available); ``"cuda:N"`` is honoured in a
            single process and replaced by ``cuda:LOCAL_RANK`` under torchrun.
        backend: process-group backend; default NCCL for CUDA, gloo for CPU.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = select_device(device, local_rank, launched="LOCAL_RANK" in os.environ)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend=backend or ("nccl" if dev.type == "cuda" else "gloo"))
    return DistContext(rank=rank, world_size=world_size, local_rank=local_rank, device=dev)


def select_device(device: str | None, local_rank: int = 0, *, launched: bool = False) -> torch.device:
    """The device this process trains on.

    Args:
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``None`` (CUDA when available).
        local_rank: the process's index on its node (torchrun's ``LOCAL_RANK``).
        launched: started by torchrun: every process takes GPU ``local_rank``, whatever index was asked.

    Raises:
        ConfigError: CUDA asked for but missing, or fewer GPUs on this node than processes.

    Example:
        >>> select_device("cpu", local_rank=3, launched=True)
        device(type='cpu')
    """
    from pscgan.errors import ConfigError

    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if not use_cuda:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError(None, "--device cuda was asked for but no CUDA device is available")
    asked = torch.device(device or "cuda")
    index = local_rank if launched or asked.index is None else asked.index
    if index >= torch.cuda.device_count():
        raise ConfigError(
            None,
            f"this process needs GPU {index} but the node has {torch.cuda.device_count()}; "
            "start at most one process per GPU (torchrun --nproc_per_node)",
        )
    return torch.device("cuda", index)


def rank_seed(seed: int, rank: int) -> int:
    """A distinct, reproducible seed per rank (StyleGAN2-ADA style: ``seed * world + rank`` is fragile
    when the world size changes; a SeedSequence spawn is not)."""
    return int(np.random.SeedSequence([seed, rank]).generate_state(1)[0])


def reduce_mean(values: dict[str, float], ctx: DistContext) -> dict[str, float]:
    """Average scalar metrics over ranks (identity in a single process)."""
    if not ctx.distributed or not values:
        return dict(values)
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    t /= ctx.world_size
    return dict(zip(keys, t.tolist()))


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()


def shutdown(ctx: DistContext) -> None:
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()
