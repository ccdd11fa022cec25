"""Augmentation: the identity at strength 0, reproducible draws, labels stay labels."""

from __future__ import annotations

import torch

from pscgan.anatomy.augment import apply, sample_params


def test_strength_zero_without_noise_is_the_identity() -> None:
    x = torch.rand(2, 2, 40, 40) * 2 - 1
    y = torch.randint(0, 3, (2, 40, 40))
    p = sample_params(2, torch.Generator().manual_seed(0), strength=0.0)
    xa, ya = apply(x, y, p, size=40, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(xa, x, atol=1e-5)
    assert torch.equal(ya, y)


def test_the_same_seed_draws_the_same_batch_and_labels_stay_classes() -> None:
    x = torch.rand(3, 2, 50, 30) * 2 - 1
    y = torch.randint(0, 3, (3, 50, 30))
    runs = []
    for _ in range(2):
        g = torch.Generator().manual_seed(7)
        runs.append(apply(x, y, sample_params(3, g), size=32, generator=g))
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    assert set(runs[0][1].unique().tolist()) <= {0, 1, 2}
    assert runs[0][0].shape == (3, 2, 32, 32)
