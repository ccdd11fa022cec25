from __future__ import annotations

import numpy as np
import pytest
import torch

from pscgan.losses.similarity import ssim_loss


@pytest.mark.parametrize("noise", [0.05, 0.3])
def test_one_minus_ssim_is_scikit_images_ssim_as_evaluate_scores_it(noise):
    from pscgan.evaluation.synthesis import SynthesisMetrics

    torch.manual_seed(0)
    ref = torch.rand(3, 1, 32, 40) * 2 - 1
    pred = (ref + noise * torch.randn_like(ref)).clamp(-1, 1)
    metrics = SynthesisMetrics()
    metrics(pred[:, 0].double().numpy(), ref[:, 0].double().numpy())
    want = metrics.aggregate()["ssim"].mean
    got = 1 - float(ssim_loss(pred.double(), ref.double()))
    assert got == pytest.approx(want, abs=1e-4)  # MONAI's window sums run in float32


def test_ssim_loss_gives_the_synthetic_image_a_gradient():
    torch.manual_seed(1)
    ref = torch.rand(2, 1, 16, 16) * 2 - 1
    pred = torch.zeros(2, 1, 16, 16, requires_grad=True)
    ssim_loss(pred, ref).backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    assert np.isclose(float(ssim_loss(ref, ref)), 0.0, atol=1e-6)
