"""One training step of each baseline: its networks, Adam optimisers and losses.

============  ===========================================================================
kind          loss
============  ===========================================================================
scar_unet3d   Dice + binary cross-entropy on the scar mask (``monai.losses.DiceCELoss``, sigmoid)
monai_unet    Dice + cross-entropy on the four classes (``DiceCELoss``, softmax)
pix2pix       D: BCE(D(x, y), 1) + BCE(D(x, G(x)), 0), halved; G: BCE(D(x, G(x)), 1) + 100 L1
============  ===========================================================================

Example:
    >>> import torch
    >>> from pscgan.baselines.config import baseline_config
    >>> cfg = baseline_config("pix2pix", "tiny")
    >>> task = build_task(cfg, torch.device("cpu"))
    >>> s = cfg.image_size
    >>> batch = {"cine": torch.zeros(2, 1, cfg.frames, s, s), "lge": torch.zeros(2, 1, s, s),
    ...          "labels": torch.zeros(2, s, s, dtype=torch.long)}
    >>> sorted(task.step(batch))
    ['d_total', 'g_adversarial', 'g_l1', 'g_total']
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from pscgan.baselines.config import BaselineConfig, BaselineKind
from pscgan.baselines.networks import PatchDiscriminator, build_network
from pscgan.labels import Tissue


class BaselineTask:
    """The networks and optimisers of a baseline; :meth:`step` trains on one batch.

    Attributes:
        network: the predicting network (what the weights file holds).
        modules: every trained module by name (for checkpoints).
        optimizers: every optimiser by name (for checkpoints).
    """

    def __init__(self, config: BaselineConfig, device: torch.device) -> None:
        self.config, self.device = config, device
        self.network = build_network(config).to(device)
        self.modules: dict[str, nn.Module] = {"network": self.network}
        self.optimizers: dict[str, torch.optim.Optimizer] = {"network": self._adam(self.network)}

    def _adam(self, module: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(module.parameters(), lr=self.config.lr, betas=self.config.betas)

    def train(self) -> None:
        for m in self.modules.values():
            m.train()

    def step(self, batch: dict[str, Any]) -> dict[str, float]:
        raise NotImplementedError


class SegmentationTask(BaselineTask):
    """Dice + cross-entropy: binary scar (scar_unet3d) or the four classes (monai_unet)."""

    def __init__(self, config: BaselineConfig, device: torch.device) -> None:
        super().__init__(config, device)
        from monai.losses import DiceCELoss

        self.binary = config.kind is BaselineKind.SCAR_UNET3D
        self.loss = DiceCELoss(sigmoid=True) if self.binary else DiceCELoss(softmax=True, to_onehot_y=True)

    def step(self, batch: dict[str, Any]) -> dict[str, float]:
        cine, labels = batch["cine"].to(self.device), batch["labels"].to(self.device)
        target = (labels == int(Tissue.SCAR)).float() if self.binary else labels
        loss = self.loss(self.network(cine), target[:, None])
        opt = self.optimizers["network"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss_dice_ce": float(loss.detach())}


class Pix2PixTask(BaselineTask):
    """Conditional GAN with L1 (Isola et al. 2017): one discriminator step, then one generator step."""

    def __init__(self, config: BaselineConfig, device: torch.device) -> None:
        super().__init__(config, device)
        self.discriminator = PatchDiscriminator(config).to(device)
        self.modules["discriminator"] = self.discriminator
        self.optimizers["discriminator"] = self._adam(self.discriminator)

    @staticmethod
    def _bce(logits: Tensor, real: bool) -> Tensor:
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        return F.binary_cross_entropy_with_logits(logits, target)

    def step(self, batch: dict[str, Any]) -> dict[str, float]:
        cine, lge = batch["cine"].to(self.device), batch["lge"].to(self.device)
        fake = self.network(cine)
        d, opt_d = self.discriminator, self.optimizers["discriminator"]
        d_loss = 0.5 * (self._bce(d(cine, lge), True) + self._bce(d(cine, fake.detach()), False))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        d.requires_grad_(False)  # the generator step must not touch D's gradients
        try:
            adversarial = self._bce(d(cine, fake), True)
        finally:
            d.requires_grad_(True)
        l1 = F.l1_loss(fake, lge)
        g_loss = adversarial + self.config.l1_weight * l1
        opt_g = self.optimizers["network"]
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"d_total": float(d_loss.detach()), "g_adversarial": float(adversarial.detach()),
                "g_l1": float(l1.detach()), "g_total": float(g_loss.detach())}


def build_task(config: BaselineConfig, device: torch.device) -> BaselineTask:
    """The training task of ``config.kind``, with freshly initialised networks on ``device``."""
    if config.kind is BaselineKind.PIX2PIX:
        return Pix2PixTask(config, device)
    return SegmentationTask(config, device)
