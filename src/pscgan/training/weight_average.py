"""An exponential moving average of a network's weights (``train.generator_ema_decay``).

The average of the generator's recent weights is what validation scores, the best checkpoint keeps and
the next phase is conditioned on: a mask generator trained with batches of 4 and an adversarial term
moves a few hundredths of validation scar Dice between validations, and the average smooths that
noise out of the shipped weights at the cost of one extra copy of the generator. StyleGAN2-ADA ships
its generator's average the same way. The decay ramps up over the first steps, so that the random
(or warm-started) initial weights do not linger in the average.

Example:
    >>> import torch
    >>> net = torch.nn.Linear(1, 1, bias=False)
    >>> average = average_copy(net)
    >>> _ = net.weight.data.fill_(1.0); _ = average.weight.data.fill_(0.0)
    >>> update_average(average, net, decay=0.9)
    >>> round(average.weight.item(), 3)
    0.1
    >>> ramped_decay(0.999, step=0), ramped_decay(0.999, step=10**6)
    (0.1, 0.999)
"""

from __future__ import annotations

import copy
from typing import TypeVar

import torch
from torch import nn

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def average_copy(module: ModuleT) -> ModuleT:
    """A frozen copy of ``module`` to hold its weights' average (starting at its current weights)."""
    return copy.deepcopy(module).requires_grad_(False)


def ramped_decay(decay: float, step: int) -> float:
    """The decay used after the phase's generator step ``step`` (0 first): ``min(decay, (1 + step) /
    (10 + step))``, so the average spans at most about the steps taken so far."""
    return min(decay, (1.0 + step) / (10.0 + step))


@torch.no_grad()
def update_average(average: nn.Module, module: nn.Module, decay: float) -> None:
    """``average <- decay * average + (1 - decay) * module`` for every parameter; buffers are copied
    (the generators have none that are learned)."""
    for a, p in zip(average.parameters(), module.parameters(), strict=True):
        a.lerp_(p.detach(), 1.0 - decay)
    for kept, buffer in zip(average.buffers(), module.buffers(), strict=True):
        kept.copy_(buffer)
