"""One discriminator step and one generator step of a phase.

Both update through :func:`pscgan.training.update.apply_update`, which refuses a non-finite update: the
losses and gradients are checked after the backward pass and before ``optimizer.step()``, so a diverging
step raises :class:`~pscgan.training.divergence.NonFiniteStep` and leaves the weights as they were.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from pscgan.config.schema import AdversarialLoss, LossConfig
from pscgan.losses.objective import discriminator_objective, generator_objective
from pscgan.models.discriminator import Discriminator, fake_input, real_input
from pscgan.models.interfaces import LGE
from pscgan.models.phase import Phase
from pscgan.training.distributed import DistContext
from pscgan.training.update import apply_update


def _inputs(batch: dict[str, Any], device: torch.device) -> tuple[Tensor, Tensor | None, Tensor, Tensor]:
    cond = batch["condition"].to(device) if "condition" in batch else None
    return batch["cine"].to(device), cond, batch["labels"].to(device), batch["lge"].to(device)


def _real(phase: Phase, labels: Tensor, lge: Tensor, classes: int) -> Tensor:
    return real_input(phase, labels=labels if phase.judges_masks else None,
                      lge=lge if phase in (Phase.SYNTHESIS, Phase.JOINT) else None, classes=classes)


def has_supervised_target(phase: Phase, loss_cfg: LossConfig) -> bool:
    """Whether the phase's generator has a loss without the discriminator to learn from: the mask
    phases always (eq. 9), the synthesis phase only with a pixel L1 term."""
    return phase is not Phase.SYNTHESIS or loss_cfg.pixel_l1_weight > 0


def discriminator_step(phase: Phase, loss_cfg: LossConfig, generator: nn.Module, discriminator: Discriminator,
                       opt: torch.optim.Optimizer, batch: dict[str, Any], ctx: DistContext, classes: int
                       ) -> dict[str, float]:
    """Update the discriminator once on a batch; returns the loss terms (prefixed ``d_``)."""
    cine, cond, labels, lge = _inputs(batch, ctx.device)
    with torch.no_grad():
        fake = fake_input(phase, generator(cine, cond), loss_cfg.mask_to_discriminator)
    terms = discriminator_objective(loss_cfg, phase, discriminator, _real(phase, labels, lge, classes), fake,
                                    labels=labels)
    return apply_update(opt, discriminator, terms, ctx, "d")


def generator_step(phase: Phase, loss_cfg: LossConfig, generator: nn.Module,
                   discriminator: Discriminator | None, opt: torch.optim.Optimizer, batch: dict[str, Any],
                   ctx: DistContext, classes: int, *, supervised_only: bool = False) -> dict[str, float]:
    """Update the generator once on a batch; returns the loss terms (prefixed ``g_``).

    ``supervised_only`` leaves out every term that reads the discriminator (adversarial warm-up).
    """
    if supervised_only:
        loss_cfg = loss_cfg.model_copy(update={"adversarial": AdversarialLoss.NONE})
        discriminator = None
    cine, cond, labels, lge = _inputs(batch, ctx.device)
    outputs = generator(cine, cond)
    real = _real(phase, labels, lge, classes) if discriminator is not None else None
    if discriminator is not None:
        discriminator.requires_grad_(False)  # the generator step must not accumulate D gradients
    try:
        terms = generator_objective(loss_cfg, phase, outputs, discriminator, real, labels=labels,
                                    lge=lge if LGE in outputs else None)
    finally:
        if discriminator is not None:
            discriminator.requires_grad_(True)
    return apply_update(opt, generator, terms, ctx, "g")
