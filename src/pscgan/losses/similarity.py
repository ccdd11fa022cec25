"""Structural similarity of the synthetic LGE to its target, as ``pscgan evaluate`` scores it.

Not in the paper: an optional term (``loss.synthesis_ssim_weight``) beside the pixel L1, whose optimum
is a blurred median image that SSIM, the paper's first synthesis metric, marks down. Both images are
mapped from the network's [-1, 1] to [0, 1] first, as :mod:`pscgan.evaluation.synthesis` does: SSIM's
luminance term is not shift-invariant, so the range matters. MONAI's ``SSIMLoss`` with a 7x7 uniform
window and data range 1 is scikit-image's ``structural_similarity`` (sample covariance, the window's
valid positions only; cross-checked in the tests).

Example:
    >>> import torch
    >>> x = torch.linspace(-1, 1, 16 * 16).view(1, 1, 16, 16)
    >>> round(float(ssim_loss(x, x)), 6)
    0.0
"""

from __future__ import annotations

from torch import Tensor

WINDOW = 7  # scikit-image's default uniform window


def ssim_loss(pred: Tensor, target: Tensor) -> Tensor:
    """``1 - SSIM`` averaged over the batch, for images ``(B, 1, H, W)`` in [-1, 1].

    Args:
        pred: synthetic images.
        target: reference images.

    Returns:
        Scalar loss in [0, 2].
    """
    from monai.losses import SSIMLoss

    loss = SSIMLoss(spatial_dims=2, data_range=1.0, kernel_type="uniform", win_size=WINDOW)
    return loss((pred.clamp(-1, 1) + 1) / 2, (target.clamp(-1, 1) + 1) / 2)
