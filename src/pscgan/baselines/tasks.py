"""Each baseline as a task of the training loop: its networks, Adam optimisers, losses and validation.

============  ===========================================================================
kind          loss
============  ===========================================================================
scar_unet3d   Dice + binary cross-entropy on the scar mask (``monai.losses.DiceCELoss``, sigmoid)
monai_unet    Dice + cross-entropy on the four classes (``DiceCELoss``, softmax)
pix2pix       D: BCE(D(x, y), 1) + BCE(D(x, G(x)), 0), halved; G: BCE(D(x, G(x)), 1) + 100 L1
============  ===========================================================================

Every update goes through :func:`pscgan.training.update.apply_update`, as the cascade's do: gradients
averaged over ranks, and a NaN/inf loss or gradient refused before the optimiser steps, so the loop
recovers from it by the same rule (:mod:`pscgan.training.loop`).

Example:
    >>> import torch
    >>> from pscgan.baselines.config import baseline_config
    >>> cfg = baseline_config("pix2pix", "tiny")
    >>> task = build_task(cfg, torch.device("cpu"))
    >>> s = cfg.image_size
    >>> batch = {"cine": torch.zeros(2, 1, cfg.frames, s, s), "lge": torch.zeros(2, 1, s, s),
    ...          "labels": torch.zeros(2, s, s, dtype=torch.long)}
    >>> sorted(task.step(iter([batch]), 0))
    ['d_total', 'g_adversarial', 'g_l1', 'g_total']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pscgan.baselines.config import BaselineConfig, BaselineKind
from pscgan.baselines.networks import PatchDiscriminator, build_network
from pscgan.labels import Tissue
from pscgan.training.distributed import DistContext, single_process
from pscgan.training.task import Batch, Task
from pscgan.training.update import apply_update


class BaselineTask(Task):
    """The networks and optimisers of a baseline; :meth:`step` trains on one batch.

    Args:
        config: the baseline.
        device: where its networks live.
        validation: the validation samples (they select the best weights), or ``None``.
        ctx: distributed context (default: one process on ``device``).

    Attributes:
        network: the predicting network (what the weights file holds).
        modules: every trained module by name (for checkpoints).
        optimizers: every optimiser by name (for checkpoints).
    """

    def __init__(self, config: BaselineConfig, device: torch.device, validation: Any = None,
                 ctx: DistContext | None = None) -> None:
        self.config, self.device, self.validation = config, device, validation
        self.ctx = ctx or single_process(device)
        self.name = config.kind.value
        self.network = build_network(config).to(device)
        self.modules: dict[str, nn.Module] = {"network": self.network}
        self.optimizers: dict[str, torch.optim.Optimizer] = {"network": self._adam(self.network)}
        self.best_modules = {"network": self.network}

    def _adam(self, module: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(module.parameters(), lr=self.config.lr, betas=self.config.betas)

    def step(self, batches: Iterator[Batch], index: int = 0) -> dict[str, float]:
        """One step on the next batch of ``batches``."""
        return self.train_on(next(batches))

    def train_on(self, batch: Batch) -> dict[str, float]:
        """One step on ``batch``; returns its losses."""
        raise NotImplementedError

    def validate(self) -> dict[str, Any] | None:
        from pscgan.baselines.validation import validate_baseline

        return validate_baseline(self, self.validation, self.device) if self.validation is not None else None


class SegmentationTask(BaselineTask):
    """Dice + cross-entropy: binary scar (scar_unet3d) or the four classes (monai_unet)."""

    def __init__(self, config: BaselineConfig, device: torch.device, validation: Any = None,
                 ctx: DistContext | None = None) -> None:
        super().__init__(config, device, validation, ctx)
        from monai.losses import DiceCELoss

        self.binary = config.kind is BaselineKind.SCAR_UNET3D
        self.loss = DiceCELoss(sigmoid=True) if self.binary else DiceCELoss(softmax=True, to_onehot_y=True)

    def train_on(self, batch: Batch) -> dict[str, float]:
        cine, labels = batch["cine"].to(self.device), batch["labels"].to(self.device)
        target = (labels == int(Tissue.SCAR)).float() if self.binary else labels
        loss = self.loss(self.network(cine), target[:, None])
        return apply_update(self.optimizers["network"], self.network, {"dice_ce": loss}, self.ctx, "loss",
                            total="dice_ce")


class Pix2PixTask(BaselineTask):
    """Conditional GAN with L1 (Isola et al. 2017): one discriminator step, then one generator step."""

    def __init__(self, config: BaselineConfig, device: torch.device, validation: Any = None,
                 ctx: DistContext | None = None) -> None:
        super().__init__(config, device, validation, ctx)
        self.discriminator = PatchDiscriminator(config).to(device)
        self.modules["discriminator"] = self.discriminator
        self.optimizers["discriminator"] = self._adam(self.discriminator)

    @staticmethod
    def _bce(logits: Tensor, real: bool) -> Tensor:
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)

    def train_on(self, batch: Batch) -> dict[str, float]:
        cine, lge = batch["cine"].to(self.device), batch["lge"].to(self.device)
        fake = self.network(cine)
        d = self.discriminator
        d_loss = 0.5 * (self._bce(d(cine, lge), True) + self._bce(d(cine, fake.detach()), False))
        logs = apply_update(self.optimizers["discriminator"], d, {"total": d_loss}, self.ctx, "d")
        d.requires_grad_(False)  # the generator step must not touch D's gradients
        try:
            adversarial = self._bce(d(cine, fake), True)
        finally:
            d.requires_grad_(True)
        l1 = F.l1_loss(fake, lge)
        terms = {"adversarial": adversarial, "l1": l1, "total": adversarial + self.config.l1_weight * l1}
        return logs | apply_update(self.optimizers["network"], self.network, terms, self.ctx, "g")


def build_task(config: BaselineConfig, device: torch.device, validation: Any = None,
               ctx: DistContext | None = None) -> BaselineTask:
    """The training task of ``config.kind``, with freshly initialised networks on ``device``, validated on
    ``validation`` (when given)."""
    if config.kind is BaselineKind.PIX2PIX:
        return Pix2PixTask(config, device, validation, ctx)
    return SegmentationTask(config, device, validation, ctx)
