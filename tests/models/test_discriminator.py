from __future__ import annotations

import pytest
import torch

from pscgan.losses.adversarial import gradient_penalty
from pscgan.models.discriminator import Discriminator, fake_input, real_input
from pscgan.models.factory import build_discriminator
from pscgan.models.interfaces import LGE, MASK_LOGITS
from pscgan.models.phase import Phase


@pytest.mark.parametrize("phase", list(Phase))
def test_discriminator_output_for_every_phase(tiny, phase):
    d = build_discriminator(tiny, phase)
    labels = torch.randint(0, 4, (3, 16, 16))
    lge = torch.rand(3, 1, 16, 16) * 2 - 1
    real = real_input(phase, labels=labels, lge=lge)
    fake = fake_input(phase, {MASK_LOGITS: torch.randn(3, 4, 16, 16), LGE: lge})
    assert real.shape == fake.shape == (3, phase.discriminator_channels(4), 16, 16)
    out = d(real)
    assert out.score.shape == (3,)
    w = tiny.model.discriminator_widths
    assert [tuple(f.shape) for f in out.features] == [(3, w[1], 4, 4), (3, w[2], 2, 2), (3, w[3], 1, 1)]
    has_counts = phase in (Phase.SEGMENTATION, Phase.JOINT)
    assert (out.counts is not None) == has_counts
    if has_counts:
        torch.testing.assert_close(out.counts.sum(1), torch.full((3,), 256.0))


def test_count_head_needs_a_mask(tiny):
    with pytest.raises(ValueError, match="judges no mask"):
        Discriminator(tiny.model, Phase.SYNTHESIS, count_head=True)


def test_wrong_input_is_refused(tiny):
    with pytest.raises(ValueError, match="takes"):
        build_discriminator(tiny, Phase.COARSE)(torch.zeros(1, 1, 16, 16))


def test_gradient_penalty_double_backward_through_attention(tiny):
    torch.manual_seed(0)
    d = build_discriminator(tiny, Phase.SYNTHESIS)
    d.attention.gamma.data.fill_(0.5)
    gp = gradient_penalty(lambda x: d(x).score, torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16))
    gp.backward()
    assert d.attention.qkv.weight.grad is not None and torch.isfinite(gp)
