"""Can pscgan's GAN steps run under DistributedDataParallel? Compares DDP with the explicit all-reduce.

pscgan averages gradients with an explicit all-reduce after each backward pass
(:mod:`pscgan.training.gradients`) instead of wrapping its networks in DDP. This script runs the
project's own discriminator and generator steps (:mod:`pscgan.training.steps`: two discriminator
forwards before one backward, WGAN-GP's double backward, a generator step through the frozen
discriminator) for three training cycles on the ``tiny`` preset's phase II networks, in two gloo
processes on the CPU, once with both networks wrapped in DDP (several DDP options) and once with the
explicit averaging, and prints, per case, whether DDP raised and the largest difference between the
parameters the two runs end with.

Command (2 CPU processes, under a minute)::

    python -W ignore tools/ddp_gan_patterns.py
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

# (adversarial loss, DDP keyword arguments); None: no averaging at all, the control showing that the
# comparison would see a missing all-reduce.
CASES: tuple[tuple[str, dict[str, Any] | None], ...] = (
    ("hinge", {}),
    ("wgan_gp", {}),
    ("hinge", {"find_unused_parameters": True}),
    ("wgan_gp", {"find_unused_parameters": True}),
    ("hinge", {"static_graph": True}),
    ("wgan_gp", {"static_graph": True}),
    ("wgan_gp", None),
)


def _batch(config: Any, rank: int, step: int) -> dict[str, torch.Tensor]:
    m = config.model
    g = torch.Generator().manual_seed(1000 * step + rank)  # a different shard on every rank and step
    labels = torch.randint(0, m.classes, (2, m.image_size, m.image_size), generator=g)
    return {"cine": torch.rand(2, 1, m.frames, m.image_size, m.image_size, generator=g) * 2 - 1,
            "condition": torch.softmax(torch.randn(2, m.classes, m.image_size, m.image_size, generator=g), 1),
            "labels": labels, "lge": torch.rand(2, 1, m.image_size, m.image_size, generator=g) * 2 - 1}


def _train(loss: str, rank: int, world: int, ddp: dict[str, Any] | None, *, average: bool = True,
           iterations: int = 3) -> torch.Tensor:
    """All parameters after ``iterations`` training cycles (``d_steps_per_g_step`` discriminator steps
    and one generator step, Adam), with both networks DDP-wrapped (``ddp``: its keyword arguments) or
    plain and averaged explicitly (``ddp=None``; ``average=False`` skips the averaging)."""
    from torch.nn.parallel import DistributedDataParallel

    from pscgan.config.presets import get_preset
    from pscgan.config.schema import apply_overrides
    from pscgan.models.factory import build_discriminator, build_generator
    from pscgan.models.phase import Phase
    from pscgan.training.distributed import DistContext
    from pscgan.training.steps import discriminator_step, generator_step

    cfg = apply_overrides(get_preset("tiny"), [f"loss.adversarial={loss}"])
    phase = Phase.SYNTHESIS
    torch.manual_seed(0)  # identical initial weights on both ranks
    gen, disc = build_generator(cfg, phase), build_discriminator(cfg, phase)
    torch.manual_seed(1 + rank)  # the interpolation weights of WGAN-GP are per rank, as in training
    # With DDP the wrappers average; the explicit path averages in the steps (world size > 1).
    ctx = DistContext(rank=rank, world_size=world if ddp is None and average else 1, local_rank=rank,
                      device=torch.device("cpu"))
    g = DistributedDataParallel(gen, **ddp) if ddp is not None else gen
    d = DistributedDataParallel(disc, **ddp) if ddp is not None else disc
    opt_d = torch.optim.Adam(disc.parameters(), lr=cfg.train.lr)
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.train.lr)
    for it in range(iterations):
        for k in range(cfg.train.d_steps_per_g_step):
            discriminator_step(
                phase, cfg.loss, g, d, opt_d, _batch(cfg, rank, 10 * it + k), ctx, cfg.model.classes
            )
        generator_step(phase, cfg.loss, g, d, opt_g, _batch(cfg, rank, 10 * it + 9), ctx, cfg.model.classes)
    return torch.cat([p.detach().reshape(-1) for p in [*gen.parameters(), *disc.parameters()]])


def _worker(rank: int, world: int, port: int, results: Any) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        for i, (loss, ddp) in enumerate(CASES):
            reference = _train(loss, rank, world, ddp=None)
            try:
                params = _train(loss, rank, world, ddp=ddp, average=ddp is not None)
                diff = float((params - reference).abs().max())
                outcome = f"ran; max |parameter - explicit all-reduce run| = {diff:.2e}"
            except Exception as exc:  # noqa: BLE001 - the outcome is what this script reports
                outcome = f"raised {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            dist.barrier()
            if rank == 0:
                results[i] = outcome
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    world = 2
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_worker, args=(world, _free_port(), results), nprocs=world, join=True)
        print(f"torch {torch.__version__}, gloo, {world} processes, tiny preset, phase II networks")
        for i, (loss, ddp) in enumerate(CASES):
            if ddp is None:
                name = "no averaging (control)"
            else:
                name = "DDP(" + (", ".join(f"{k}={v}" for k, v in ddp.items()) or "defaults") + ")"
            print(f"{loss:8s} {name:38s} {results.get(i, 'no result')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
