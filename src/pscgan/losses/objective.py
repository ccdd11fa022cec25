"""Each phase's generator and discriminator objectives, assembled from the loss terms and a LossConfig.

===============  =====================================================================================
phase            generator terms (weights from the config)
===============  =====================================================================================
I  coarse        multi-class CE (eq. 8-9) [+ optional soft Dice] [+ optional heart share] + adversarial
                 (eq. 10)
II synthesis     synthetic regularisation (eq. 11-13) + content (eq. 15) + adversarial (eq. 14)
                 [+ optional pixel L1] [+ optional 1 - SSIM]
III segmentation multi-class CE [+ optional soft Dice] [+ optional heart share] + adversarial (eq. 16)
                 + pixel-count auxiliary (eq. 17)
joint            the union of the above on the two heads
===============  =====================================================================================

The discriminator minimises its adversarial loss (+ WGAN-GP's penalty) and, when it carries the
count head, the count regression on ground-truth masks.

Example:
    >>> import torch
    >>> from pscgan.config.presets import get_preset
    >>> from pscgan.models.factory import build_discriminator, build_generator
    >>> from pscgan.models.discriminator import fake_input, real_input
    >>> from pscgan.models.phase import Phase
    >>> cfg = get_preset("tiny")
    >>> g, d = build_generator(cfg, Phase.COARSE), build_discriminator(cfg, Phase.COARSE)
    >>> cine = torch.randn(2, 1, 4, 16, 16)
    >>> labels = torch.randint(0, 4, (2, 16, 16))
    >>> out = g(cine)
    >>> real = real_input(Phase.COARSE, labels=labels)
    >>> sorted(generator_objective(cfg.loss, Phase.COARSE, out, d, real, labels=labels))
    ['adversarial', 'segmentation', 'total']
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor

from pscgan.config.schema import AdversarialLoss, DiceReduction, LossConfig
from pscgan.losses.adversarial import discriminator_loss, generator_loss, gradient_penalty
from pscgan.losses.auxiliary import class_pixel_counts, count_loss
from pscgan.losses.content import feature_content_loss
from pscgan.losses.regularisation import synthetic_regularisation
from pscgan.losses.similarity import ssim_loss
from pscgan.losses.segmentation import foreground_dice_loss, heart_share_loss, multiclass_cross_entropy
from pscgan.models.discriminator import Discriminator, fake_input
from pscgan.models.interfaces import LGE, MASK_LOGITS
from pscgan.models.phase import Phase


def _total(terms: dict[str, Tensor]) -> dict[str, Tensor]:
    values = list(terms.values())
    if not values:
        raise ValueError("no loss term to total")
    total = values[0]
    for value in values[1:]:
        total = total + value
    terms["total"] = total
    return terms


def discriminator_objective(cfg: LossConfig, phase: Phase, discriminator: Discriminator, real: Tensor,
                            fake: Tensor, *, labels: Tensor | None = None) -> dict[str, Tensor]:
    """Named loss terms of one discriminator step, plus ``total``.

    Args:
        real: ground truth as the discriminator sees it (:func:`~pscgan.models.discriminator.real_input`).
        fake: generated sample as it sees it (:func:`~pscgan.models.discriminator.fake_input`); detached here.
        labels: (B, H, W) ground-truth labels, for the count head's targets.
    """
    fake = fake.detach()
    real_out, fake_out = discriminator(real), discriminator(fake)
    terms = {"adversarial": discriminator_loss(cfg.adversarial, real_out.score, fake_out.score)}
    if cfg.adversarial is AdversarialLoss.WGAN_GP:
        terms["gradient_penalty"] = cfg.gradient_penalty_weight * gradient_penalty(
            lambda x: discriminator(x).score, real, fake)
    if real_out.counts is not None and labels is not None:
        pixels = labels.shape[-1] * labels.shape[-2]
        target = class_pixel_counts(labels, real_out.counts.shape[1])
        terms["counts"] = cfg.auxiliary_weight * count_loss(real_out.counts, target, pixels)
    return _total(terms)


def generator_objective(cfg: LossConfig, phase: Phase, outputs: Mapping[str, Tensor],
                        discriminator: Discriminator | None, real: Tensor | None, *,
                        labels: Tensor | None = None, lge: Tensor | None = None) -> dict[str, Tensor]:
    """Named loss terms of one generator step, plus ``total``.

    Args:
        outputs: the generator's output dict.
        discriminator: the phase's discriminator (None when adversarial learning is off).
        real: ground truth as the discriminator sees it (content loss); may be None without D.
        labels: (B, H, W) ground-truth labels (mask phases).
        lge: (B, 1, H, W) ground-truth LGE (synthesis phases; for the optional pixel L1 and SSIM terms).
    """
    terms: dict[str, Tensor] = {}
    if MASK_LOGITS in outputs:
        if labels is None:
            raise ValueError("a mask phase needs its ground-truth labels")
        ce = multiclass_cross_entropy(outputs[MASK_LOGITS], labels)
        terms["segmentation"] = cfg.segmentation_weight * ce
        if cfg.segmentation_dice_weight > 0:
            per_sample = cfg.segmentation_dice_reduction is DiceReduction.SAMPLE
            terms["dice"] = cfg.segmentation_dice_weight * foreground_dice_loss(
                outputs[MASK_LOGITS], labels, per_sample=per_sample)
        if cfg.segmentation_count_weight > 0:
            share = heart_share_loss(outputs[MASK_LOGITS], labels)
            terms["heart_share"] = cfg.segmentation_count_weight * share
    if LGE in outputs:
        if cfg.regularisation:
            terms["regularisation"] = cfg.regularisation_weight * synthetic_regularisation(
                outputs[LGE], nu=cfg.ogs_nu, group_size=cfg.ogs_group_size)
        if cfg.pixel_l1_weight > 0:
            if lge is None:
                raise ValueError("the pixel L1 needs the ground-truth LGE")
            terms["pixel_l1"] = cfg.pixel_l1_weight * F.l1_loss(outputs[LGE], lge)
        if cfg.synthesis_ssim_weight > 0:
            if lge is None:
                raise ValueError("the SSIM term needs the ground-truth LGE")
            terms["ssim"] = cfg.synthesis_ssim_weight * ssim_loss(outputs[LGE], lge)
    if cfg.adversarial is not AdversarialLoss.NONE:
        if discriminator is None:
            raise ValueError("an adversarial loss is configured but no discriminator was given")
        fake_out = discriminator(fake_input(phase, outputs, cfg.mask_to_discriminator))
        terms["adversarial"] = cfg.adversarial_weight * generator_loss(cfg.adversarial, fake_out.score)
        if cfg.content and LGE in outputs:
            with torch.no_grad():
                real_features = discriminator(real).features
            terms["content"] = cfg.content_weight * feature_content_loss(real_features, fake_out.features)
        if cfg.auxiliary and fake_out.counts is not None:
            if labels is None:
                raise ValueError("the auxiliary count loss needs the ground-truth labels")
            pixels = labels.shape[-1] * labels.shape[-2]
            target = class_pixel_counts(labels, fake_out.counts.shape[1])
            terms["auxiliary"] = cfg.auxiliary_weight * count_loss(fake_out.counts, target, pixels)
    return _total(terms)
