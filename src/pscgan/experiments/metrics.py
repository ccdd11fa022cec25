"""The numbers an experiment compares: one value per run, per test subject, or per evaluation quantity.

* :func:`run_metrics` reads a run's ``evaluation.json`` (written by
  :func:`pscgan.evaluation.evaluate.evaluate`) into the columns of the ablation tables;
* :func:`subject_metrics` computes the same imaging metrics per test subject (mean over its slices),
  which the paired tests against the reference variant need;
* :func:`flatten_evaluation` turns every Table 1 and Table 2 quantity into one named scalar, for
  cross-validation summaries.

Undefined values (a Dice of two empty masks, a correlation of one subject) stay ``None``.

Example:
    >>> run_metrics({"imaging": {"segmentation": None, "synthesis": None},
    ...              "clinical": {}, "per_subject": []})["dice_overall"] is None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: Per-run metric keys of the ablation tables, in column order.
RUN_METRICS = ("accuracy", "dice_overall", "dice_scar", "ssim", "psnr_db", "scar_size_r", "scar_ratio_r",
               "scar_ratio_abs_error")
#: Metrics that also exist per test subject (the paired tests use these).
SUBJECT_METRICS = ("accuracy", "dice_overall", "dice_scar", "ssim", "psnr_db", "scar_ratio_abs_error")

_CLASSES = ("overall", "scar", "healthy_myocardium", "lv_blood_pool")
_SEG_METRICS = ("accuracy", "sensitivity", "specificity", "dice", "hd95_mm")
_DIAG_METRICS = ("sensitivity", "specificity", "ppv", "npv", "auc")
_AGREEMENT = ("scar_size_slice_cm2", "scar_volume_ml", "scar_ratio")


def _get(tree: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(tree, dict) or tree.get(key) is None:
            return None
        tree = tree[key]
    return tree


def _mean_defined(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else None


def run_metrics(evaluation: dict[str, Any]) -> dict[str, float | None]:
    """The ablation-table values of one run, from its ``evaluation.json``."""
    seg = _get(evaluation, "imaging", "segmentation")
    syn = _get(evaluation, "imaging", "synthesis")
    clinical = evaluation.get("clinical") or {}
    return {
        "accuracy": _get(seg, "overall", "accuracy", "mean"),
        "dice_overall": _get(seg, "overall", "dice", "mean"),
        "dice_scar": _get(seg, "per_class", "scar", "dice", "mean"),
        "ssim": _get(syn, "ssim", "mean"),
        "psnr_db": _get(syn, "psnr_db", "mean"),
        "scar_size_r": _get(clinical, "scar_size_slice_cm2", "pearson", "r"),
        "scar_ratio_r": _get(clinical, "scar_ratio", "pearson", "r"),
        "scar_ratio_abs_error": _mean_defined([r.get("scar_ratio_abs_error")
                                               for r in evaluation.get("per_subject") or []]),
    }


def subject_metrics(pairs: Sequence[Any]) -> dict[str, dict[str, float | None]]:
    """Per test subject (:class:`pscgan.evaluation.pairing.PairedSubject`): the mean over its slices of
    each metric of :data:`SUBJECT_METRICS` (``None`` where not defined or not predicted)."""
    from pscgan.evaluation.segmentation import SegmentationMetrics
    from pscgan.evaluation.synthesis import SynthesisMetrics

    out: dict[str, dict[str, float | None]] = {}
    for s in pairs:
        row: dict[str, float | None] = dict.fromkeys(SUBJECT_METRICS)
        if s.labels_ref is not None and s.labels_pred is not None:
            seg = SegmentationMetrics(hd95=False)
            seg(s.labels_pred, s.labels_ref)
            # what the prediction does not define (e.g. a scar-only segmenter's overall metrics) stays
            # None, as in the run's evaluation (pscgan.evaluation.parts)
            if s.parts.tissue_complete:
                row["accuracy"] = _mean_defined([x["overall"]["accuracy"] for x in seg.samples])
                row["dice_overall"] = _mean_defined([x["overall"]["dice"] for x in seg.samples])
            if s.parts.scar:
                row["dice_scar"] = _mean_defined([x["scar"]["dice"] for x in seg.samples])
        if s.lge_ref is not None and s.lge_pred is not None:
            syn = SynthesisMetrics()
            syn(s.lge_pred, s.lge_ref)
            row["ssim"] = _mean_defined([x["ssim"] for x in syn.samples])
            row["psnr_db"] = _mean_defined([x["psnr_db"] for x in syn.samples])
        pred_ratio = _get(s.clinical_pred, "subject", "scar_ratio")
        ref_ratio = _get(s.clinical_ref, "subject", "scar_ratio")
        if pred_ratio is not None and ref_ratio is not None:
            row["scar_ratio_abs_error"] = abs(pred_ratio - ref_ratio)
        out[s.subject_id] = row
    return out


def flatten_evaluation(evaluation: dict[str, Any]) -> dict[str, float | None]:
    """Every Table 1 / Table 2 quantity of an ``evaluation.json`` as ``name -> value``.

    Names: ``segmentation.<class>.<metric>`` (class ``overall``, ``scar``, ``healthy_myocardium``,
    ``lv_blood_pool``), ``synthesis.<ssim|nrmse|psnr_db>``, ``<segment_localisation|transmurality>.<metric>``
    and ``<scar_size_slice_cm2|scar_volume_ml|scar_ratio>.<pearson_r|bias>``.
    """
    seg = _get(evaluation, "imaging", "segmentation")
    syn = _get(evaluation, "imaging", "synthesis")
    clinical = evaluation.get("clinical") or {}
    flat: dict[str, float | None] = {}
    for cls in _CLASSES:
        node = _get(seg, "overall") if cls == "overall" else _get(seg, "per_class", cls)
        for m in _SEG_METRICS:
            flat[f"segmentation.{cls}.{m}"] = _get(node, m, "mean")
    for m in ("ssim", "nrmse", "psnr_db"):
        flat[f"synthesis.{m}"] = _get(syn, m, "mean")
    for part in ("segment_localisation", "transmurality"):
        for m in _DIAG_METRICS:
            flat[f"{part}.{m}"] = _get(clinical, part, m)
    for part in _AGREEMENT:
        flat[f"{part}.pearson_r"] = _get(clinical, part, "pearson", "r")
        flat[f"{part}.bias"] = _get(clinical, part, "bland_altman", "bias")
    return flat
