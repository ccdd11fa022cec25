"""Synthetic regularisation loss of eq. (11)-(13): L2 term plus overlapping-group-sparsity total variation.

``phi(u) = sum_{i,j} || u~_{i,j,K} ||_2`` where ``u~_{i,j,K}`` is the K x K group of entries from
``(i - m1, j - m1)`` to ``(i + m2, j + m2)``, ``m1 = floor((K - 1) / 2)``, ``m2 = floor(K / 2)``
(Peyre and Fadili, 2011); entries outside the image count as 0. The loss of one image I is

    0.5 * ||I||^2 + nu * (phi(I[i+1, j] - I[i, j]) + phi(I[i, j+1] - I[i, j]))

with forward differences (rows i, columns j). We divide it by the pixel count so its scale does not
depend on the image size (a named departure: eq. 11 is a plain sum), and average over the batch.

Example:
    >>> import torch
    >>> flat = torch.zeros(1, 1, 8, 8)
    >>> float(synthetic_regularisation(flat, nu=1.0, group_size=3)) < 1e-5
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

# Keeps sqrt differentiable where a whole group is 0 (adds at most 1e-6 per pixel to phi).
_EPS = 1e-12


def ogs_norm(u: Tensor, group_size: int) -> Tensor:
    """The overlapping-group-sparsity functional phi of eq. (12)-(13) for each sample.

    Args:
        u: (B, C, H, W); channels are summed (each channel is its own set of groups).
        group_size: K.

    Returns:
        (B,) values of phi.
    """
    k = group_size
    m1, m2 = (k - 1) // 2, k // 2
    squared = F.pad(u.square(), (m1, m2, m1, m2))
    group_energy = F.avg_pool2d(squared, k, stride=1) * (k * k)
    return torch.sqrt(group_energy + _EPS).sum(dim=(1, 2, 3))


def synthetic_regularisation(image: Tensor, *, nu: float, group_size: int) -> Tensor:
    """Eq. (11) per pixel, averaged over the batch.

    Args:
        image: (B, 1, H, W) synthesised LGE.
        nu: weight of the OGS total variation (nu > 0).
        group_size: K of the OGS groups.
    """
    pixels = image.shape[-1] * image.shape[-2]
    l2 = 0.5 * image.square().sum(dim=(1, 2, 3))
    d_rows = image[..., 1:, :] - image[..., :-1, :]
    d_cols = image[..., :, 1:] - image[..., :, :-1]
    tv = ogs_norm(d_rows, group_size) + ogs_norm(d_cols, group_size)
    return ((l2 + nu * tv) / pixels).mean()
