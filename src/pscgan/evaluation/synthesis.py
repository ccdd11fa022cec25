"""Image-quality metrics of the synthetic LGE: SSIM, PSNR and NRMSE (paper section 6.5, Table 1).

Network images live in [-1, 1]; both images are mapped to [0, 1] (``(x + 1) / 2``, clipped) before
the metrics, so the stated data range is 1. SSIM is scikit-image's (7x7 uniform window, the
Wang et al. 2004 constants), PSNR ``10 log10(1 / MSE)``, NRMSE scikit-image's with a selectable
normalisation (default ``euclidean``: ``||ref - pred|| / ||ref||``).

Example:
    >>> import numpy as np
    >>> ref = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(1, 64, 64)
    >>> m = SynthesisMetrics()
    >>> m(ref, ref)
    >>> round(m.aggregate()["ssim"].mean, 6)
    1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from pscgan.evaluation._checks import check_batch
from pscgan.evaluation.summary import gather_across_ranks, summarise

DATA_RANGE = 1.0


class NrmseNormalisation(str, Enum):
    """How NRMSE is normalised (scikit-image's options)."""

    EUCLIDEAN = "euclidean"
    MIN_MAX = "min-max"
    MEAN = "mean"


def to_unit_range(img: np.ndarray) -> np.ndarray:
    """Map a network image in [-1, 1] to [0, 1] (clipped), as float64."""
    return np.clip((np.asarray(img, np.float64) + 1.0) / 2.0, 0.0, 1.0)


class SynthesisMetrics:
    """Accumulates per-image SSIM, PSNR and NRMSE; ``aggregate()`` summarises them."""

    def __init__(self, nrmse: NrmseNormalisation | str = NrmseNormalisation.EUCLIDEAN) -> None:
        self.nrmse = NrmseNormalisation(nrmse)
        self.reset()

    def reset(self) -> None:
        self.samples: list[dict[str, Any]] = []

    def __call__(self, pred: np.ndarray, ref: np.ndarray, ids: Sequence[str] | None = None) -> None:
        """Add a batch of images ``(B, H, W)`` in [-1, 1]."""
        from skimage.metrics import normalized_root_mse, peak_signal_noise_ratio, structural_similarity

        pred, ref = check_batch(pred, ref, ids)
        for i in range(pred.shape[0]):
            p, r = to_unit_range(pred[i]), to_unit_range(ref[i])
            mse = float(np.mean((p - r) ** 2))
            self.samples.append({
                "id": ids[i] if ids is not None else str(len(self.samples)),
                "ssim": float(structural_similarity(r, p, data_range=DATA_RANGE)),
                "psnr_db": float(peak_signal_noise_ratio(r, p, data_range=DATA_RANGE)) if mse > 0 else None,
                "nrmse": float(normalized_root_mse(r, p, normalization=self.nrmse.value))
                if self._nrmse_defined(r) else None,
            })

    def _nrmse_defined(self, ref: np.ndarray) -> bool:
        # The normaliser must be non-zero: a blank reference has no defined NRMSE.
        if self.nrmse is NrmseNormalisation.EUCLIDEAN:
            return bool(np.any(ref))
        if self.nrmse is NrmseNormalisation.MIN_MAX:
            return bool(ref.max() > ref.min())
        return bool(ref.mean() != 0)

    def aggregate(self) -> dict[str, Any]:
        samples = gather_across_ranks(self.samples)
        return {name: summarise(s[name] for s in samples) for name in ("ssim", "psnr_db", "nrmse")} | {
            "n_samples": len(samples), "data_range": DATA_RANGE, "nrmse_normalisation": self.nrmse.value}
