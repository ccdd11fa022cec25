from __future__ import annotations

import pytest
import torch

from pscgan.config.schema import AdversarialLoss
from pscgan.losses.objective import discriminator_objective, generator_objective
from pscgan.models.discriminator import fake_input, real_input
from pscgan.models.factory import build_discriminator, build_generator
from pscgan.models.phase import Phase

GENERATOR_TERMS = {Phase.COARSE: {"segmentation", "adversarial"},
                   Phase.SYNTHESIS: {"regularisation", "adversarial", "content"},
                   Phase.SEGMENTATION: {"segmentation", "adversarial", "auxiliary"},
                   Phase.JOINT: {"segmentation", "regularisation", "adversarial", "content", "auxiliary"}}


def batch(tiny, phase):
    torch.manual_seed(0)
    cine = torch.rand(2, 1, 4, 16, 16) * 2 - 1
    labels = torch.randint(0, 4, (2, 16, 16))
    lge = torch.rand(2, 1, 16, 16) * 2 - 1
    cond = {Phase.SYNTHESIS: torch.softmax(torch.randn(2, 4, 16, 16), 1), Phase.SEGMENTATION: lge}.get(phase)
    return cine, cond, labels, lge


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("kind", [AdversarialLoss.HINGE, AdversarialLoss.WGAN_GP, AdversarialLoss.LSGAN])
def test_terms_of_each_phase_and_they_train(tiny, phase, kind):
    loss = tiny.loss.model_copy(update={"adversarial": kind, "pixel_l1_weight": 0.0})
    cfg = tiny.model_copy(update={"loss": loss})
    g, d = build_generator(cfg, phase), build_discriminator(cfg, phase)
    cine, cond, labels, lge = batch(tiny, phase)
    out = g(cine, cond)
    real = real_input(phase, labels=labels, lge=lge)
    d_terms = discriminator_objective(cfg.loss, phase, d, real, fake_input(phase, out), labels=labels)
    expected_d = {"adversarial", "total"}
    expected_d |= {"gradient_penalty"} if kind is AdversarialLoss.WGAN_GP else set()
    expected_d |= {"counts"} if d.count is not None else set()
    assert set(d_terms) == expected_d
    d_terms["total"].backward()
    g_terms = generator_objective(cfg.loss, phase, out, d, real, labels=labels, lge=lge)
    assert set(g_terms) == GENERATOR_TERMS[phase] | {"total"}
    assert all(torch.isfinite(v) for v in g_terms.values())
    g.zero_grad()
    g_terms["total"].backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())


def test_switches_remove_their_terms(tiny):
    loss = tiny.loss.model_copy(update={"adversarial": AdversarialLoss.NONE, "content": False,
                                        "auxiliary": False, "regularisation": False, "pixel_l1_weight": 1.0})
    g = build_generator(tiny, Phase.JOINT)
    cine, _, labels, lge = batch(tiny, Phase.JOINT)
    terms = generator_objective(loss, Phase.JOINT, g(cine), None, None, labels=labels, lge=lge)
    assert set(terms) == {"segmentation", "pixel_l1", "total"}


def test_dice_reduction_chooses_per_slice_or_batch_pooled_dice(tiny):
    from pscgan.config.schema import DiceReduction
    from pscgan.losses.segmentation import foreground_dice_loss
    from pscgan.models.interfaces import MASK_LOGITS

    g = build_generator(tiny, Phase.COARSE)
    cine, _, labels, _ = batch(tiny, Phase.COARSE)
    out = g(cine)
    logits = out[MASK_LOGITS]
    for reduction, per_sample in [(DiceReduction.BATCH, False), (DiceReduction.SAMPLE, True)]:
        loss = tiny.loss.model_copy(update={"adversarial": AdversarialLoss.NONE,
                                            "segmentation_dice_weight": 2.0,
                                            "segmentation_dice_reduction": reduction})
        terms = generator_objective(loss, Phase.COARSE, out, None, None, labels=labels)
        want = 2.0 * foreground_dice_loss(logits, labels, per_sample=per_sample)
        torch.testing.assert_close(terms["dice"], want)


def test_heart_share_term_of_the_mask_phases(tiny):
    from pscgan.losses.segmentation import heart_share_loss
    from pscgan.models.interfaces import MASK_LOGITS

    loss = tiny.loss.model_copy(update={"adversarial": AdversarialLoss.NONE,
                                        "segmentation_count_weight": 2.5})
    for phase in (Phase.COARSE, Phase.SEGMENTATION):
        g = build_generator(tiny, phase)
        cine, cond, labels, lge = batch(tiny, phase)
        out = g(cine, cond)
        terms = generator_objective(loss, phase, out, None, None, labels=labels, lge=lge)
        torch.testing.assert_close(terms["heart_share"], 2.5 * heart_share_loss(out[MASK_LOGITS], labels))
    off = tiny.loss.model_copy(update={"adversarial": AdversarialLoss.NONE})
    g = build_generator(tiny, Phase.COARSE)
    assert "heart_share" not in generator_objective(off, Phase.COARSE, g(batch(tiny, Phase.COARSE)[0]), None,
                                                    None, labels=labels)


def test_ssim_term_of_the_synthesis_phase(tiny):
    from pscgan.losses.similarity import ssim_loss
    from pscgan.models.interfaces import LGE

    g = build_generator(tiny, Phase.SYNTHESIS)
    cine, cond, labels, lge = batch(tiny, Phase.SYNTHESIS)
    out = g(cine, cond)
    loss = tiny.loss.model_copy(update={"adversarial": AdversarialLoss.NONE, "synthesis_ssim_weight": 3.0})
    terms = generator_objective(loss, Phase.SYNTHESIS, out, None, None, labels=labels, lge=lge)
    torch.testing.assert_close(terms["ssim"], 3.0 * ssim_loss(out[LGE], lge))
    with pytest.raises(ValueError, match="SSIM term needs the ground-truth LGE"):
        generator_objective(loss, Phase.SYNTHESIS, out, None, None, labels=labels)
