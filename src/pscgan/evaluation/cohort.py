"""Cohort evaluation: the paper's imaging metrics (Table 1) and clinical agreement (Table 2).

Clinical agreement, method vs reference:

* scar size: per slice (cm^2) and per subject (ml), Pearson r and Bland-Altman;
* scar ratio (scar / myocardium): per subject, undefined ratios (no myocardium) left out and counted;
* segment-level scar localisation: per AHA segment of each subject, scar present (scar fraction above
  the quantification threshold) -> sensitivity, specificity, PPV, NPV, AUC (score: predicted fraction);
* transmurality: per segment, transmural scar (> 50 % of the wall) -> the same statistics (score:
  predicted transmurality), and agreement of the five transmurality classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pscgan.clinical.agreement import bland_altman, diagnostic_accuracy, pearson, transmurality_class
from pscgan.evaluation.pairing import PairedSubject
from pscgan.evaluation.segmentation import SegmentationMetrics
from pscgan.evaluation.synthesis import SynthesisMetrics

TRANSMURAL_THRESHOLD = 0.5


def _segment_pairs(subjects: Sequence[PairedSubject]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    pairs = []
    for s in subjects:
        if s.clinical_ref is None:
            continue
        for seg, ref in s.clinical_ref["segments"].items():
            pred = s.clinical_pred["segments"].get(seg)
            if pred is not None:
                pairs.append((pred, ref))
    return pairs


def imaging_metrics(subjects: Sequence[PairedSubject]) -> dict[str, Any]:
    seg, syn = SegmentationMetrics(hd95=True), SynthesisMetrics()
    for s in subjects:
        ids = [f"{s.subject_id}/{k}" for k in range(len(s.labels_pred))]
        if s.labels_ref is not None:
            seg(s.labels_pred, s.labels_ref, spacing=s.spacing_rc, ids=ids)
        if s.lge_ref is not None:
            syn(s.lge_pred, s.lge_ref, ids=ids)
    return {"segmentation": seg.aggregate() if seg.samples else None,
            "synthesis": syn.aggregate() if syn.samples else None,
            "per_slice_segmentation": seg.samples, "per_slice_synthesis": syn.samples}


def clinical_agreement(subjects: Sequence[PairedSubject]) -> dict[str, Any]:
    with_ref = [s for s in subjects if s.clinical_ref is not None]
    sp = [s.clinical_pred["subject"] for s in with_ref]
    sr = [s.clinical_ref["subject"] for s in with_ref]
    slice_pred = [sl["quantities"]["scar_area_cm2"] for s in with_ref for sl in s.clinical_pred["slices"]]
    slice_ref = [sl["quantities"]["scar_area_cm2"] for s in with_ref for sl in s.clinical_ref["slices"]]
    out: dict[str, Any] = {"n_subjects": len(with_ref), "n_subjects_without_reference": len(subjects) - len(with_ref)}

    def paired(pred: list[float | None], ref: list[float | None]) -> dict[str, Any]:
        defined_p = [v for v in pred if v is not None]
        defined_r = [v for v in ref if v is not None]
        return {"pearson": pearson(pred, ref).as_dict(), "bland_altman": bland_altman(pred, ref).as_dict(),
                "pred_mean": float(np.mean(defined_p)) if defined_p else None,
                "pred_sd": float(np.std(defined_p, ddof=1)) if len(defined_p) > 1 else None,
                "ref_mean": float(np.mean(defined_r)) if defined_r else None,
                "ref_sd": float(np.std(defined_r, ddof=1)) if len(defined_r) > 1 else None}

    out["scar_size_slice_cm2"] = paired(slice_pred, slice_ref)
    out["scar_volume_ml"] = paired([s["scar_volume_ml"] for s in sp], [s["scar_volume_ml"] for s in sr])
    out["scar_ratio"] = paired([s["scar_ratio"] for s in sp], [s["scar_ratio"] for s in sr])
    pairs = _segment_pairs(with_ref)
    out["segment_localisation"] = diagnostic_accuracy(
        [p["scar_present"] for p, _ in pairs], [r["scar_present"] for _, r in pairs],
        scores=[p["scar_fraction"] or 0.0 for p, _ in pairs]).as_dict() if pairs else None
    tpairs = [(p, r) for p, r in pairs if p["transmurality"] is not None and r["transmurality"] is not None]
    if tpairs:
        out["transmurality"] = diagnostic_accuracy(
            [p["transmurality"] > TRANSMURAL_THRESHOLD for p, _ in tpairs],
            [r["transmurality"] > TRANSMURAL_THRESHOLD for _, r in tpairs],
            scores=[p["transmurality"] for p, _ in tpairs]).as_dict()
        cp = [transmurality_class(p["transmurality"]) for p, _ in tpairs]
        cr = [transmurality_class(r["transmurality"]) for _, r in tpairs]
        confusion = np.zeros((5, 5), int)
        for a, b in zip(cr, cp):
            confusion[a, b] += 1
        out["transmurality_classes"] = {"accuracy": float(np.trace(confusion) / confusion.sum()),
                                        "confusion_ref_rows_pred_cols": confusion.tolist()}
    else:
        out["transmurality"] = out["transmurality_classes"] = None
    out["transmural_threshold"] = TRANSMURAL_THRESHOLD
    return out


def per_subject_rows(subjects: Sequence[PairedSubject]) -> list[dict[str, Any]]:
    """One row per subject, for worst-case lists (scar ratio error, Dice, SSIM)."""
    rows = []
    for s in subjects:
        row: dict[str, Any] = {"subject": s.subject_id,
                               "scar_volume_ml_pred": s.clinical_pred["subject"]["scar_volume_ml"],
                               "scar_ratio_pred": s.clinical_pred["subject"]["scar_ratio"]}
        if s.labels_ref is not None:
            m = SegmentationMetrics(hd95=False)
            m(s.labels_pred, s.labels_ref)
            agg = m.aggregate()
            row["dice_overall"] = agg["overall"]["dice"].mean
            row["dice_scar"] = agg["per_class"]["scar"]["dice"].mean
        if s.lge_ref is not None:
            m2 = SynthesisMetrics()
            m2(s.lge_pred, s.lge_ref)
            row["ssim"] = m2.aggregate()["ssim"].mean
        if s.clinical_ref is not None:
            ref = s.clinical_ref["subject"]
            row["scar_volume_ml_ref"] = ref["scar_volume_ml"]
            row["scar_ratio_ref"] = ref["scar_ratio"]
            if ref["scar_ratio"] is not None and row["scar_ratio_pred"] is not None:
                row["scar_ratio_abs_error"] = abs(row["scar_ratio_pred"] - ref["scar_ratio"])
        rows.append(row)
    return rows
