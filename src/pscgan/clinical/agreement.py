"""Agreement between a method and a reference: correlation, Bland-Altman, diagnostic accuracy.

Pairs where either value is undefined (``None``/NaN) are left out and counted, so that a slice with
no myocardium never enters a mean as 0.

Example:
    >>> ba = bland_altman([1.0, 2.0, 3.0], [1.5, 2.0, 2.5])
    >>> round(ba.bias, 3), ba.n
    (0.0, 3)
    >>> d = diagnostic_accuracy([True, True, False, False], [True, False, False, False])
    >>> d.sensitivity, d.specificity
    (1.0, 0.6666666666666666)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


def _pairs(a: Sequence[float | None], b: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray, int]:
    if len(a) != len(b):
        raise ValueError(f"paired values of different lengths: {len(a)} and {len(b)}")
    keep = [(x, y) for x, y in zip(a, b)
            if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)]
    arr = np.asarray(keep, dtype=np.float64).reshape(-1, 2)
    return arr[:, 0], arr[:, 1], len(a) - len(keep)


@dataclass(frozen=True)
class Correlation:
    """Pearson's r with its two-sided p-value."""

    r: float | None
    p_value: float | None
    n: int
    n_excluded: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def pearson(pred: Sequence[float | None], ref: Sequence[float | None]) -> Correlation:
    """Pearson correlation (scipy); undefined with fewer than 3 pairs or a constant series."""
    from scipy.stats import pearsonr

    x, y, excluded = _pairs(pred, ref)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation(None, None, int(x.size), excluded)
    res = pearsonr(x, y)
    return Correlation(float(res.statistic), float(res.pvalue), int(x.size), excluded)


@dataclass(frozen=True)
class BlandAltman:
    """Bias (mean of pred - ref) and 95% limits of agreement (bias +- 1.96 sd)."""

    bias: float | None
    sd: float | None
    lower: float | None
    upper: float | None
    n: int
    n_excluded: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bland_altman(pred: Sequence[float | None], ref: Sequence[float | None]) -> BlandAltman:
    x, y, excluded = _pairs(pred, ref)
    if x.size < 2:
        return BlandAltman(None, None, None, None, int(x.size), excluded)
    d = x - y
    bias, sd = float(d.mean()), float(d.std(ddof=1))
    return BlandAltman(bias, sd, bias - 1.96 * sd, bias + 1.96 * sd, int(x.size), excluded)


@dataclass(frozen=True)
class DiagnosticAccuracy:
    """Binary agreement (e.g. per AHA segment: scar present or not)."""

    tp: int
    fp: int
    tn: int
    fn: int
    sensitivity: float | None
    specificity: float | None
    ppv: float | None
    npv: float | None
    accuracy: float | None
    auc: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _div(a: int, b: int) -> float | None:
    return a / b if b > 0 else None


def roc_auc(scores: Sequence[float], truth: Sequence[bool] | np.ndarray) -> float | None:
    """Area under the ROC curve (MONAI's implementation); undefined when only one class occurs."""
    import torch
    from monai.metrics import compute_roc_auc

    t = np.asarray(truth, dtype=bool)
    if t.all() or not t.any():
        return None
    return float(np.asarray(
        compute_roc_auc(
            torch.as_tensor(np.asarray(scores, np.float64)), torch.as_tensor(t.astype(np.float64))
        )
    ))


def diagnostic_accuracy(pred: Sequence[bool], ref: Sequence[bool],
                        scores: Sequence[float] | None = None) -> DiagnosticAccuracy:
    """Sensitivity, specificity, PPV, NPV, accuracy, and AUC when continuous ``scores`` are given."""
    p, r = np.asarray(pred, dtype=bool), np.asarray(ref, dtype=bool)
    if p.shape != r.shape:
        raise ValueError(f"{p.size} predictions for {r.size} references")
    tp, fp = int(np.sum(p & r)), int(np.sum(p & ~r))
    tn, fn = int(np.sum(~p & ~r)), int(np.sum(~p & r))
    auc = roc_auc(scores, r) if scores is not None else None
    return DiagnosticAccuracy(tp, fp, tn, fn, _div(tp, tp + fn), _div(tn, tn + fp), _div(tp, tp + fp),
                              _div(tn, tn + fn), _div(tp + tn, tp + fp + tn + fn), auc)


#: Transmurality classes (fraction of wall thickness): none, 1-25%, 26-50%, 51-75%, 76-100%.
TRANSMURALITY_BINS = (0.0, 0.25, 0.50, 0.75)


def transmurality_class(t: float | None) -> int | None:
    """0 for no scar, then 1..4 for the four 25% classes; ``None`` if undefined."""
    if t is None or not math.isfinite(t):
        return None
    if t <= 0.0:
        return 0
    return 1 + int(np.searchsorted(TRANSMURALITY_BINS[1:], t, side="left"))
