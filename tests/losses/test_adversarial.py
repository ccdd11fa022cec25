from __future__ import annotations

import pytest
import torch

from pscgan.losses.adversarial import discriminator_loss, generator_loss, gradient_penalty

REAL = torch.tensor([2.0, 0.5, -1.0])
FAKE = torch.tensor([-2.0, 0.0, 1.5])


def test_hinge_by_hand():
    # relu(1 - real) = [0, 0.5, 2] -> 2.5/3; relu(1 + fake) = [0, 1, 2.5] -> 3.5/3
    assert float(discriminator_loss("hinge", REAL, FAKE)) == pytest.approx(6 / 3)
    assert float(generator_loss("hinge", FAKE)) == pytest.approx(0.5 / 3)


def test_wgan_by_hand():
    assert float(discriminator_loss("wgan_gp", REAL, FAKE)) == pytest.approx(-0.5 / 3 - 1.5 / 3)
    assert float(generator_loss("wgan_gp", FAKE)) == pytest.approx(0.5 / 3)


def test_lsgan_by_hand():
    # (real - 1)^2 = [1, 0.25, 4]; fake^2 = [4, 0, 2.25]; (fake - 1)^2 = [9, 1, 0.25]
    assert float(discriminator_loss("lsgan", REAL, FAKE)) == pytest.approx(0.5 * 5.25 / 3 + 0.5 * 6.25 / 3)
    assert float(generator_loss("lsgan", FAKE)) == pytest.approx(0.5 * 10.25 / 3)


def test_no_adversarial_loss_when_off():
    with pytest.raises(ValueError, match="off"):
        generator_loss("none", FAKE)


def test_gradient_penalty_of_a_linear_critic():
    w = torch.tensor([3.0, 4.0])  # ||w|| = 5 everywhere -> penalty (5 - 1)^2 = 16

    def critic(x):
        return x.flatten(1) @ w

    gp = gradient_penalty(critic, torch.randn(4, 1, 2), torch.randn(4, 1, 2))
    assert float(gp) == pytest.approx(16.0)
