"""Multi-class cross-entropy of eq. (8)-(9), on one-hot targets.

Eq. (9) is a per-class binary cross-entropy on the softmax probabilities, averaged over the N = 4
classes: ``-(1/N) sum_n [y_n log p_n + (1 - y_n) log(1 - p_n)]``. It is averaged over pixels and over
the batch (eq. 8 sums over samples; with the paper's batch of 1 the two agree). ``log(1 - p_n)`` is
computed as ``logsumexp_{j != n} z_j - logsumexp_j z_j`` on the logits z, which stays finite when a
class probability saturates at 1.

Example:
    >>> import torch
    >>> logits = torch.tensor([[[[4.0]], [[0.0]], [[0.0]], [[0.0]]]])   # (1, 4, 1, 1), confident class 0
    >>> round(float(multiclass_cross_entropy(logits, torch.tensor([[[0]]]))), 4)
    0.0265
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from pscgan.losses.auxiliary import class_pixel_counts


def multiclass_cross_entropy(logits: Tensor, target: Tensor) -> Tensor:
    """Eq. (9) averaged over classes, pixels and batch.

    Args:
        logits: (B, N, H, W) class logits.
        target: (B, H, W) integer labels, or (B, N, H, W) one-hot / soft targets.

    Returns:
        Scalar loss.
    """
    classes = logits.shape[1]
    if target.dim() == logits.dim() - 1:
        target = F.one_hot(target.long(), classes).movedim(-1, 1).to(logits.dtype)
    log_p = torch.log_softmax(logits, dim=1)
    spatial = [1] * (logits.dim() - 2)
    others = torch.eye(classes, dtype=torch.bool, device=logits.device).view(1, classes, classes, *spatial)
    log_rest = torch.logsumexp(logits.unsqueeze(1).masked_fill(others, float("-inf")), dim=2)
    log_not_p = log_rest - torch.logsumexp(logits, dim=1, keepdim=True)
    return -(target * log_p + (1 - target) * log_not_p).mean()


def foreground_dice_loss(logits: Tensor, target: Tensor, *, per_sample: bool = False) -> Tensor:
    """Soft Dice loss of the foreground classes (1..N-1) on the softmax probabilities.

    Not in the paper: an optional term (``loss.segmentation_dice_weight``) for the scar's small pixel
    share, which eq. (9)'s per-pixel average hardly sees. MONAI's ``DiceLoss``. By default
    intersections and sums are pooled over the batch (``batch=True``), so a slice without scar does not
    contribute a degenerate 0/0 term; ``per_sample`` takes each slice's Dice and averages them, as the
    U-Net baseline's ``DiceCELoss`` does, so a small scar counts as much as a large one.

    Args:
        logits: (B, N, H, W) class logits.
        target: (B, H, W) integer labels.
        per_sample: per-slice Dice averaged over the batch instead of one batch-pooled Dice.

    Returns:
        Scalar loss in [0, 1].
    """
    from monai.losses import DiceLoss

    loss = DiceLoss(include_background=False, to_onehot_y=True, softmax=True, batch=not per_sample)
    return loss(logits, target[:, None].long())


def heart_share_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Per-slice error of each foreground class's soft pixel count, as a share of the slice's heart.

    Not in the paper: eq. (17)'s pixel-count loss read on the generator's own softmax instead of
    through the discriminator's count head (``loss.segmentation_count_weight``), so it acts while no
    discriminator trains. The scar ratio a report gives is a ratio of pixel counts; cross-entropy and
    soft Dice reward overlap, this term rewards the counts themselves. Per slice, the soft counts
    (sums of the softmax) of the foreground classes 1..N-1 are compared with the true counts; the
    absolute differences are summed and divided by the slice's true foreground (heart) pixel count,
    then averaged over the batch. A slice without heart divides by 1.

    Args:
        logits: (B, N, H, W) class logits.
        target: (B, H, W) integer labels.

    Returns:
        Scalar loss (0 when every soft count is exact).

    Example:
        >>> import torch
        >>> logits = torch.full((1, 4, 2, 2), -20.0)
        >>> logits[0, 1] = 20.0                       # every pixel confidently class 1
        >>> target = torch.tensor([[[1, 1], [2, 3]]])  # heart: 4 pixels, 2 of class 1
        >>> round(float(heart_share_loss(logits, target)), 3)   # |4-2| + |0-1| + |0-1| over 4
        1.0
    """
    classes = logits.shape[1]
    soft = class_pixel_counts(torch.softmax(logits, dim=1), classes)[:, 1:]
    true = class_pixel_counts(target, classes)[:, 1:].to(soft.dtype)
    heart = true.sum(dim=1).clamp_min(1.0)
    return ((soft - true).abs().sum(dim=1) / heart).mean()
