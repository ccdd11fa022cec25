from __future__ import annotations

import torch
import torch.nn.functional as F

from pscgan.losses.segmentation import foreground_dice_loss, heart_share_loss, multiclass_cross_entropy


def test_equals_per_class_binary_cross_entropy_on_softmax():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 5, 6, generator=g) * 3
    labels = torch.randint(0, 4, (2, 5, 6), generator=g)
    onehot = F.one_hot(labels, 4).permute(0, 3, 1, 2).float()
    ref = F.binary_cross_entropy(torch.softmax(logits, 1), onehot)
    torch.testing.assert_close(multiclass_cross_entropy(logits, labels), ref)
    torch.testing.assert_close(multiclass_cross_entropy(logits, onehot), ref)


def test_finite_with_saturated_logits():
    logits = torch.tensor([[[[200.0]], [[0.0]], [[0.0]], [[-200.0]]]], requires_grad=True)
    loss = multiclass_cross_entropy(logits, torch.tensor([[[1]]]))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    # class 0 has p = 1 while the target is 1: -log(1 - p0) = 200 - log(1 + ...) ~ 200; class 1: -log p1 ~ 200
    assert 99 < float(loss.detach()) < 101


def _hand_dice_loss(p, onehot):
    """1 - soft Dice of probabilities ``p`` against ``onehot``, summed over every element given."""
    return 1 - (2 * (p * onehot).sum() + 1e-5) / (p.sum() + onehot.sum() + 1e-5)


def _random_case(seed, batch):
    torch.manual_seed(seed)
    logits = torch.randn(batch, 4, 6, 6)
    target = torch.randint(0, 4, (batch, 6, 6))
    return logits, target, torch.softmax(logits, 1), F.one_hot(target, 4).permute(0, 3, 1, 2).float()


def test_foreground_dice_loss_equals_a_hand_computed_batch_dice():
    logits, target, p, onehot = _random_case(0, 2)
    dice = [_hand_dice_loss(p[:, c], onehot[:, c]) for c in (1, 2, 3)]
    assert torch.isclose(foreground_dice_loss(logits, target), torch.stack(dice).mean(), atol=1e-6)


def test_foreground_dice_loss_is_zero_for_a_perfect_prediction_and_ignores_background():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 2:5, 2:5] = 3
    logits = F.one_hot(target, 4).permute(0, 3, 1, 2).float() * 100
    assert float(foreground_dice_loss(logits, target)) < 1e-4


def test_foreground_dice_loss_per_sample_averages_each_slice_dice():
    logits, target, p, onehot = _random_case(1, 3)
    per_slice = [_hand_dice_loss(p[b, c], onehot[b, c]) for b in range(3) for c in (1, 2, 3)]
    got = foreground_dice_loss(logits, target, per_sample=True)
    assert torch.isclose(got, torch.stack(per_slice).mean(), atol=1e-6)
    assert not torch.isclose(got, foreground_dice_loss(logits, target), atol=1e-4)


def test_heart_share_loss_equals_per_slice_count_errors_over_the_heart():
    logits, target, p, onehot = _random_case(2, 3)
    soft, true = p.sum(dim=(2, 3)).double().numpy(), onehot.sum(dim=(2, 3)).double().numpy()
    want = sum(abs(soft[b, 1:] - true[b, 1:]).sum() / true[b, 1:].sum() for b in range(3)) / 3
    assert abs(float(heart_share_loss(logits, target)) - want) < 1e-5


def test_heart_share_loss_rewards_counts_not_overlap():
    target = torch.zeros(1, 8, 8, dtype=torch.long)
    target[0, 2:6, 2:6] = 2
    target[0, 2:4, 2:4] = 3  # 4 scar pixels in 16 of heart
    moved = torch.zeros_like(target)
    moved[0, 4:8, 4:8] = 2
    moved[0, 6:8, 6:8] = 3  # the same counts elsewhere: no count error
    confident = F.one_hot(moved, 4).permute(0, 3, 1, 2).float() * 100
    assert float(heart_share_loss(confident, target)) < 1e-4
    half = target.clone()
    half[0, 2:3, 2:4] = 2  # half the scar read as myocardium: |14-12| + |2-4| over 16
    logits = F.one_hot(half, 4).permute(0, 3, 1, 2).float() * 100
    assert abs(float(heart_share_loss(logits, target)) - 4 / 16) < 1e-4


def test_heart_share_loss_of_a_slice_without_heart_counts_false_heart_pixels():
    target = torch.zeros(1, 4, 4, dtype=torch.long)
    logits = torch.full((1, 4, 4, 4), -50.0)
    logits[0, 0] = 50.0
    logits[0, 0, 0, 0], logits[0, 3, 0, 0] = -50.0, 50.0  # one false scar pixel
    assert abs(float(heart_share_loss(logits, target)) - 1.0) < 1e-4
