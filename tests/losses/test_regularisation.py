from __future__ import annotations

import math

import pytest
import torch

from pscgan.losses.regularisation import ogs_norm, synthetic_regularisation


def ogs_brute_force(u, k):
    """Eq. (12)-(13) with explicit loops: groups from (i - m1, j - m1) to (i + m2, j + m2), zeros outside."""
    m1, m2 = (k - 1) // 2, k // 2
    h, w = u.shape
    total = 0.0
    for i in range(h):
        for j in range(w):
            energy = 0.0
            for a in range(i - m1, i + m2 + 1):
                for b in range(j - m1, j + m2 + 1):
                    if 0 <= a < h and 0 <= b < w:
                        energy += float(u[a, b]) ** 2
            total += math.sqrt(energy)
    return total


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_ogs_equals_brute_force(k):
    u = torch.randn(2, 1, 7, 9, generator=torch.Generator().manual_seed(k), dtype=torch.float64)
    ours = ogs_norm(u, k)
    for b in range(2):
        assert float(ours[b]) == pytest.approx(ogs_brute_force(u[b, 0], k), rel=1e-9, abs=1e-4)


def test_ogs_with_group_size_one_is_l1():
    u = torch.randn(1, 1, 5, 5, dtype=torch.float64)
    assert float(ogs_norm(u, 1)[0]) == pytest.approx(float(u.abs().sum()), rel=1e-9, abs=1e-4)


def test_synthetic_regularisation_equals_brute_force():
    img = torch.rand(2, 1, 6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 2 - 1
    nu, k = 0.3, 3
    expected = []
    for b in range(2):
        x = img[b, 0]
        value = 0.5 * float((x ** 2).sum())
        value += nu * (ogs_brute_force(x[1:] - x[:-1], k) + ogs_brute_force(x[:, 1:] - x[:, :-1], k))
        expected.append(value / 30)
    ours = synthetic_regularisation(img, nu=nu, group_size=k)
    assert float(ours) == pytest.approx(sum(expected) / 2, rel=1e-8, abs=1e-5)


def test_gradient_is_finite_on_flat_images():
    img = torch.zeros(1, 1, 8, 8, requires_grad=True)
    synthetic_regularisation(img, nu=1.0, group_size=3).backward()
    assert torch.isfinite(img.grad).all()
