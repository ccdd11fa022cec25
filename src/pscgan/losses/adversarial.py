"""Adversarial losses: hinge (the paper, eq. 10, 14, 16), WGAN-GP and LSGAN (section 7.5).

All take the discriminator's raw scores (B,).

===========  ================================================  ==========================
loss         discriminator                                     generator
===========  ================================================  ==========================
hinge        mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))  -mean(D(fake))
wgan_gp      mean(D(fake)) - mean(D(real)) (+ lambda * GP)     -mean(D(fake))
lsgan        0.5 mean((D(real) - 1)^2) + 0.5 mean(D(fake)^2)    0.5 mean((D(fake) - 1)^2)
===========  ================================================  ==========================

Example:
    >>> import torch
    >>> real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-2.0, 0.0])
    >>> float(discriminator_loss("hinge", real, fake)), float(generator_loss("hinge", fake))
    (0.75, 1.0)
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from pscgan.config.schema import AdversarialLoss


def _kind(kind: AdversarialLoss | str) -> AdversarialLoss:
    kind = AdversarialLoss(kind)
    if kind is AdversarialLoss.NONE:
        raise ValueError("adversarial learning is off (adversarial=none): there is no adversarial loss")
    return kind


def discriminator_loss(kind: AdversarialLoss | str, real: Tensor, fake: Tensor) -> Tensor:
    """The discriminator's adversarial loss (WGAN-GP's penalty is separate: :func:`gradient_penalty`)."""
    kind = _kind(kind)
    if kind is AdversarialLoss.HINGE:
        return torch.relu(1 - real).mean() + torch.relu(1 + fake).mean()
    if kind is AdversarialLoss.WGAN_GP:
        return fake.mean() - real.mean()
    return 0.5 * (real - 1).square().mean() + 0.5 * fake.square().mean()


def generator_loss(kind: AdversarialLoss | str, fake: Tensor) -> Tensor:
    """The generator's adversarial loss on the discriminator's scores of generated samples."""
    kind = _kind(kind)
    if kind is AdversarialLoss.LSGAN:
        return 0.5 * (fake - 1).square().mean()
    return -fake.mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor, *,
                     generator: torch.Generator | None = None) -> Tensor:
    """WGAN-GP penalty ``mean((||grad_x D(x_hat)||_2 - 1)^2)`` on random interpolates (Gulrajani et al.).

    Args:
        critic: maps a batch to scores (B,), e.g. ``lambda x: discriminator(x).score``.
        real, fake: batches of the same shape; ``fake`` is detached.
        generator: optional RNG for the interpolation weights.
    """
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), generator=generator, device=real.device,
                       dtype=real.dtype)
    mixed = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()
