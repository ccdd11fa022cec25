"""Gradient averaging and parameter broadcast across ranks.

The discriminator step evaluates the discriminator several times per backward (real, fake, and the
WGAN-GP interpolates with a double backward), and the generator step back-propagates through a
discriminator whose parameters are frozen for that step. Rather than wrapping the networks in
``DistributedDataParallel``, whose reducer keeps per-iteration state about which parameters a backward
pass will reach, each network's gradients are averaged over ranks explicitly after its backward pass:
the same synchronous data-parallel update, with nothing that has to agree with these patterns.
``tools/ddp_gan_patterns.py`` compares both on these steps (results in ``docs/training.md``): default
DDP ends with the same weights, ``static_graph=True`` silently does not.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn

from pscgan.training.distributed import DistContext


def average_gradients(module: nn.Module, ctx: DistContext) -> None:
    """All-reduce (mean) the gradients of ``module``'s parameters; parameters without a gradient count
    as zero, so every rank takes the same step."""
    if not ctx.distributed:
        return
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    grads = [p.grad for p in params if p.grad is not None]  # every one, after the zeros above
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= ctx.world_size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset:offset + n].view_as(g))
        offset += n


def broadcast_module(module: nn.Module, ctx: DistContext, src: int = 0) -> None:
    """Make every rank's parameters and buffers equal to rank ``src``'s."""
    if not ctx.distributed:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=src)
