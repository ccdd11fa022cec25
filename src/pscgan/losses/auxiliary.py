"""Self-supervised segmentation auxiliary loss of eq. (17): per-class pixel counts read by the discriminator.

Phase III's discriminator has a linear head that reads, from a mask, how many pixels each class
covers. It is trained to read the true counts of ground-truth masks; the generator is penalised by
the L1 distance between the head's reading of its mask and the true counts (the architecture notes'
reading of eq. 17). Counts are divided by the pixel count, so the loss is a mean absolute error of
class fractions.

Example:
    >>> import torch
    >>> labels = torch.tensor([[[0, 1], [3, 3]]])
    >>> class_pixel_counts(labels, 4).tolist()
    [[1.0, 1.0, 0.0, 2.0]]
    >>> float(count_loss(torch.tensor([[1.0, 1.0, 1.0, 1.0]]), class_pixel_counts(labels, 4), 4))
    0.125
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def class_pixel_counts(mask: Tensor, classes: int) -> Tensor:
    """Pixels per class, (B, classes), from labels (B, H, W) or per-class maps (B, classes, H, W)."""
    if mask.dim() == 3:
        mask = F.one_hot(mask.long(), classes).movedim(-1, 1).float()
    return mask.sum(dim=(2, 3))


def count_loss(predicted: Tensor, target: Tensor, num_pixels: int) -> Tensor:
    """Mean absolute difference of per-class counts, divided by ``num_pixels``."""
    return (predicted - target).abs().mean() / num_pixels
