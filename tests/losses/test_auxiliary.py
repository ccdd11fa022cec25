from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from pscgan.losses.auxiliary import class_pixel_counts, count_loss


def test_counts_from_labels_and_from_one_hot_agree():
    labels = torch.randint(0, 4, (3, 8, 8), generator=torch.Generator().manual_seed(0))
    onehot = F.one_hot(labels, 4).permute(0, 3, 1, 2).float()
    counts = class_pixel_counts(labels, 4)
    torch.testing.assert_close(counts, class_pixel_counts(onehot, 4))
    torch.testing.assert_close(counts.sum(1), torch.full((3,), 64.0))
    assert counts[0, 2] == int((labels[0] == 2).sum())


def test_count_loss_is_l1_over_pixels():
    pred = torch.tensor([[10.0, 0.0, 6.0, 0.0]])
    true = torch.tensor([[8.0, 2.0, 6.0, 0.0]])
    assert float(count_loss(pred, true, 16)) == pytest.approx((2 + 2) / 4 / 16)
