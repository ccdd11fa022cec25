"""Segmentation metrics per class and overall (paper section 6.5, Table 1).

Per class ``c`` (one-vs-rest) and per sample: accuracy ``(TP+TN)/all``, sensitivity ``TP/(TP+FN)``,
specificity ``TN/(TN+FP)``, Dice ``2TP/(2TP+FP+FN)`` and the 95th-percentile symmetric Hausdorff
distance in mm (MONAI's implementation, with the pixel spacing). "Overall" is the mean over the three
tissue classes (blood pool, healthy myocardium, scar); the "other" class is reported but not part of
it. Undefined values (Dice of two empty masks, sensitivity without positives, HD95 with an empty mask)
are ``None`` and stay out of the means.

Example:
    >>> import numpy as np
    >>> ref = np.zeros((1, 8, 8), np.uint8); ref[0, 2:6, 2:6] = 2
    >>> m = SegmentationMetrics(hd95=False)
    >>> m(ref, ref)
    >>> m.aggregate()["per_class"]["healthy_myocardium"]["dice"].mean
    1.0
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from pscgan.evaluation._checks import check_batch
from pscgan.evaluation.summary import Summary, gather_across_ranks, summarise
from pscgan.labels import LABEL_NAMES, NUM_CLASSES, Tissue

TISSUE_CLASSES = (Tissue.BLOOD_POOL, Tissue.MYOCARDIUM, Tissue.SCAR)
_NAMES = {v: k for k, v in LABEL_NAMES.items()}
METRICS = ("accuracy", "sensitivity", "specificity", "dice", "hd95_mm")


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den > 0 else None


def confusion_counts(pred: np.ndarray, ref: np.ndarray, n_classes: int = NUM_CLASSES) -> np.ndarray:
    """One-vs-rest counts per class: array ``(n_classes, 4)`` of TP, FP, TN, FN for one sample."""
    pred = np.asarray(pred).ravel()
    ref = np.asarray(ref).ravel()
    if pred.shape != ref.shape:
        raise ValueError(f"prediction has {pred.size} pixels, reference {ref.size}")
    cm = np.bincount(ref.astype(np.int64) * n_classes + pred.astype(np.int64),
                     minlength=n_classes * n_classes).reshape(n_classes, n_classes)  # rows: ref, cols: pred
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return np.stack([tp, fp, tn, fn], axis=1)


def hd95_mm(pred: np.ndarray, ref: np.ndarray, spacing: Sequence[float]) -> float | None:
    """95th-percentile symmetric Hausdorff distance (mm) between two binary 2D masks (MONAI)."""
    if not pred.any() or not ref.any():
        return None
    import torch
    from monai.metrics import compute_hausdorff_distance

    p = torch.from_numpy(np.asarray(pred, bool)[None, None].copy())
    r = torch.from_numpy(np.asarray(ref, bool)[None, None].copy())
    with warnings.catch_warnings():
        # MONAI 1.5-1.6 pass a deprecated argument to their own get_mask_edges and warn about it on
        # every call; the warning is addressed to MONAI, not to users of `pscgan evaluate`
        warnings.filterwarnings("ignore", message=".*always_return_as_numpy", category=FutureWarning)
        value = compute_hausdorff_distance(p, r, include_background=True, percentile=95,
                                           spacing=[float(s) for s in spacing])
    return float(value.item())


class SegmentationMetrics:
    """Accumulates per-sample segmentation metrics; ``aggregate()`` summarises them.

    Args:
        hd95: also compute the 95th-percentile Hausdorff distance (slower).
    """

    def __init__(self, hd95: bool = True) -> None:
        self.hd95 = hd95
        self.reset()

    def reset(self) -> None:
        self.samples: list[dict[str, Any]] = []

    def __call__(self, pred: np.ndarray, ref: np.ndarray, spacing: Sequence[Sequence[float]] | None = None,
                 ids: Sequence[str] | None = None) -> None:
        """Add a batch of label maps ``(B, H, W)`` (values 0..3).

        Args:
            pred: predicted labels.
            ref: reference labels.
            spacing: per-sample pixel spacing (mm), needed for HD95.
            ids: per-sample identifiers kept with the values (for worst-case lists).
        """
        pred, ref = check_batch(pred, ref, ids)
        for i in range(pred.shape[0]):
            counts = confusion_counts(pred[i], ref[i])
            sample: dict[str, Any] = {"id": ids[i] if ids is not None else str(len(self.samples))}
            for c in Tissue:
                tp, fp, tn, fn = (int(x) for x in counts[c])
                values = {
                    "accuracy": _ratio(tp + tn, tp + fp + tn + fn),
                    "sensitivity": _ratio(tp, tp + fn),
                    "specificity": _ratio(tn, tn + fp),
                    "dice": _ratio(2 * tp, 2 * tp + fp + fn),
                    "hd95_mm": None,
                }
                if self.hd95 and spacing is not None:
                    values["hd95_mm"] = hd95_mm(pred[i] == c, ref[i] == c, spacing[i])
                sample[_NAMES[c]] = values
            sample["overall"] = {
                m: _mean_defined([sample[_NAMES[c]][m] for c in TISSUE_CLASSES]) for m in METRICS
            }
            self.samples.append(sample)

    def aggregate(self) -> dict[str, Any]:
        """Summaries per class and overall: ``{"per_class": {name: {metric: Summary}}, "overall": {...}}``."""
        samples = gather_across_ranks(self.samples)
        per_class = {
            _NAMES[c]: {m: summarise(s[_NAMES[c]][m] for s in samples) for m in METRICS} for c in Tissue
        }
        overall: dict[str, Summary] = {m: summarise(s["overall"][m] for s in samples) for m in METRICS}
        return {"per_class": per_class, "overall": overall, "n_samples": len(samples)}


def _mean_defined(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None
