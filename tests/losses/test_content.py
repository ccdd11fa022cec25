from __future__ import annotations

import pytest
import torch

from pscgan.losses.content import feature_content_loss


def test_sum_over_layers_of_mean_squared_difference():
    real = [torch.zeros(1, 2, 4, 4), torch.ones(1, 3, 2, 2), torch.zeros(1, 1, 1, 1)]
    fake = [torch.full((1, 2, 4, 4), 2.0), torch.ones(1, 3, 2, 2), torch.full((1, 1, 1, 1), -1.0)]
    assert float(feature_content_loss(real, fake)) == pytest.approx(4.0 + 0.0 + 1.0)


def test_real_features_are_targets():
    real = [torch.zeros(1, 1, 2, 2, requires_grad=True)]
    fake = [torch.ones(1, 1, 2, 2, requires_grad=True)]
    feature_content_loss(real, fake).backward()
    assert real[0].grad is None and fake[0].grad is not None


def test_mismatched_lists_are_refused():
    with pytest.raises(ValueError):
        feature_content_loss([torch.zeros(1)], [])
