"""Input checks shared by the metric objects: one batch of predictions and references.

Example:
    >>> import numpy as np
    >>> pred, ref = check_batch(np.zeros((8, 8)), np.zeros((8, 8)))
    >>> pred.shape, ref.shape
    ((1, 8, 8), (1, 8, 8))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def check_batch(pred: np.ndarray, ref: np.ndarray, ids: Sequence[str] | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Return ``pred`` and ``ref`` as ``(B, H, W)`` arrays (a single ``(H, W)`` image becomes a batch of one).

    Raises:
        ValueError: an array that is neither ``(H, W)`` nor ``(B, H, W)``, shapes that differ, or ``ids``
            whose length is not the batch size.
    """
    pred, ref = np.asarray(pred), np.asarray(ref)
    for name, arr in (("prediction", pred), ("reference", ref)):
        if arr.ndim not in (2, 3):
            raise ValueError(f"{name} must be (H, W) or (B, H, W), got shape {arr.shape}")
    pred = pred[None] if pred.ndim == 2 else pred
    ref = ref[None] if ref.ndim == 2 else ref
    if pred.shape != ref.shape:
        raise ValueError(f"prediction shape {pred.shape} differs from reference shape {ref.shape}")
    if ids is not None and len(ids) != pred.shape[0]:
        raise ValueError(f"{len(ids)} ids given for a batch of {pred.shape[0]} samples")
    return pred, ref
