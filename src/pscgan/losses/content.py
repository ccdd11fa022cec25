"""Synthetic content loss of eq. (15): distance between discriminator features of real and synthesised LGE.

For conv layers 2, 3 and 4 of the discriminator (after activation), the mean squared difference of
the feature maps of the real LGE and of the synthesised one, summed over the three layers. Eq. (15)
averages over the W_i x H_i pixels; we also average over channels so layers of different widths
weigh alike (a named departure). The real features are targets (detached). The generator minimises
this term (architecture notes: the paper's wording puts it on the discriminator side).

Example:
    >>> import torch
    >>> real = [torch.ones(1, 2, 4, 4)] * 3
    >>> fake = [torch.zeros(1, 2, 4, 4)] * 3
    >>> float(feature_content_loss(real, fake))
    3.0
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor


def feature_content_loss(real_features: Sequence[Tensor], fake_features: Sequence[Tensor]) -> Tensor:
    """Sum over layers of the mean squared feature difference (real features detached)."""
    if len(real_features) != len(fake_features) or not real_features:
        raise ValueError("need the same, non-zero number of real and fake feature maps")
    losses = [F.mse_loss(f, r.detach()) for r, f in zip(real_features, fake_features, strict=True)]
    total = losses[0]
    for loss in losses[1:]:
        total = total + loss
    return total
