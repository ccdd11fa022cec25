"""Cohort evaluation: the paper's imaging metrics (Table 1) and clinical agreement (Table 2).

Clinical agreement, method vs reference:

* scar size: per slice (cm^2) and per subject (ml), Pearson r and Bland-Altman;
* scar ratio (scar / myocardium): per subject, undefined ratios (no myocardium) left out and counted;
* segment-level scar localisation: per AHA segment of each subject, scar present (scar fraction above
  the quantification threshold) -> sensitivity, specificity, PPV, NPV, AUC (score: predicted fraction);
* transmurality: per segment, transmural scar (> 50 % of the wall) -> the same statistics (score:
  predicted transmurality), and agreement of the five transmurality classes.

What a method does not produce (:mod:`pscgan.evaluation.parts`: no synthetic LGE, no segmentation, or a
scar-only one) is reported as not defined: the entry is ``None`` and its name is listed under
``not_defined``. A scar-only segmentation defines the scar metrics and the scar size, but no overall
metric, no scar ratio and no AHA segments (all need the myocardium).

What the reference does not annotate (:mod:`pscgan.data.annotation`) is not defined the same way, with
the reason under ``not_defined_reasons``: without a reference LGE no synthesis metric; with reference
labels that do not tell scar from healthy myocardium no scar class, no healthy myocardium, no overall
metric and no clinical scar quantity, while the myocardium is scored as the prediction's healthy
myocardium and scar together against the reference myocardium (``per_class.myocardium``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pscgan.clinical.agreement import bland_altman, diagnostic_accuracy, pearson, transmurality_class
from pscgan.evaluation.pairing import PairedSubject
from pscgan.evaluation.parts import DefinedParts
from pscgan.evaluation.segmentation import SegmentationMetrics
from pscgan.evaluation.synthesis import SynthesisMetrics
from pscgan.labels import LABEL_NAMES, Tissue

TRANSMURAL_THRESHOLD = 0.5


def _segment_pairs(subjects: Sequence[PairedSubject]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    pairs = []
    for s in subjects:
        if s.clinical_ref is None or s.clinical_pred is None:  # no reference, or no segmentation predicted
            continue
        for seg, ref in s.clinical_ref["segments"].items():
            pred = s.clinical_pred["segments"].get(seg)
            if pred is not None:
                pairs.append((pred, ref))
    return pairs


def cohort_parts(subjects: Sequence[PairedSubject]) -> DefinedParts:
    """The parts every subject's prediction defines."""
    parts = DefinedParts()
    for s in subjects:
        parts = parts.intersection(s.parts)
    return parts


def _undefined_classes(parts: DefinedParts) -> list[str]:
    return [name for name, label in LABEL_NAMES.items() if not parts.class_defined(label)]


METHOD_LACKS = "the method does not produce this output"
NO_REFERENCE_LGE = "the reference dataset has no LGE images"
NO_REFERENCE_SCAR = ("the reference labels do not annotate scar (their myocardium label is healthy "
                     "myocardium and scar together)")


def merge_scar(labels: np.ndarray) -> np.ndarray:
    """Scar labelled as myocardium: what a prediction is compared with where scar is not annotated."""
    return np.where(labels == Tissue.SCAR, Tissue.MYOCARDIUM, labels).astype(labels.dtype)


def scar_annotated(subjects: Sequence[PairedSubject]) -> bool:
    return all(s.scar_annotated for s in subjects)


def _merged_myocardium(seg: SegmentationMetrics, segmentation: dict[str, Any] | None) -> None:
    """Rename the merged healthy-myocardium entries to ``myocardium``; scar and overall not defined."""
    for sample in seg.samples:
        sample["myocardium"] = sample.pop("healthy_myocardium")
        sample.update({"healthy_myocardium": None, "scar": None, "overall": None})
    if segmentation is not None:
        per_class = segmentation["per_class"]
        per_class["myocardium"] = per_class.pop("healthy_myocardium")
        per_class.update({"healthy_myocardium": None, "scar": None})
        segmentation["overall"] = None


def imaging_metrics(subjects: Sequence[PairedSubject]) -> dict[str, Any]:
    parts = cohort_parts(subjects)
    with_scar = scar_annotated(subjects)
    seg, syn = SegmentationMetrics(hd95=True), SynthesisMetrics()
    for s in subjects:
        ids = [f"{s.subject_id}/{k}" for k in range(len(s.cine))]
        if s.labels_ref is not None and s.labels_pred is not None and parts.segmentation:
            pred = s.labels_pred if with_scar else merge_scar(s.labels_pred)
            seg(pred, s.labels_ref, spacing=s.spacing_rc, ids=ids)
        if s.lge_ref is not None and s.lge_pred is not None and parts.synthetic_lge:
            syn(s.lge_pred, s.lge_ref, ids=ids)
    reasons: dict[str, str] = {}
    if not parts.synthetic_lge:
        reasons["synthesis"] = METHOD_LACKS
    elif subjects and all(s.lge_ref is None for s in subjects):
        reasons["synthesis"] = NO_REFERENCE_LGE
    not_defined = list(reasons)
    segmentation = seg.aggregate() if seg.samples else None
    if not parts.segmentation:
        not_defined.append("segmentation")
        reasons["segmentation"] = METHOD_LACKS
    elif not with_scar:
        _merged_myocardium(seg, segmentation)
        for key in ("segmentation.per_class.scar", "segmentation.per_class.healthy_myocardium",
                    "segmentation.overall"):
            not_defined.append(key)
            reasons[key] = NO_REFERENCE_SCAR
    else:
        # One-vs-rest values of a class the method never predicts mean nothing, nor do means over them.
        classes = _undefined_classes(parts)
        overall = not parts.tissue_complete
        not_defined += [f"segmentation.per_class.{name}" for name in classes]
        not_defined += ["segmentation.overall"] if overall else []
        reasons.update({k: METHOD_LACKS for k in not_defined if k not in reasons})
        for sample in seg.samples:
            sample.update({name: None for name in classes + (["overall"] if overall else [])})
        if segmentation is not None:
            segmentation["per_class"].update({name: None for name in classes})
            if overall:
                segmentation["overall"] = None
    return {"segmentation": segmentation,
            "synthesis": syn.aggregate() if syn.samples else None,
            "not_defined": not_defined, "not_defined_reasons": reasons,
            "defined_parts": parts.model_dump(mode="json"),
            "per_slice_segmentation": seg.samples, "per_slice_synthesis": syn.samples}


_SCAR_KEYS = ("scar_size_slice_cm2", "scar_volume_ml")
_MYOCARDIUM_KEYS = ("scar_ratio", "segment_localisation", "transmurality", "transmurality_classes")


def _clinical_not_defined(parts: DefinedParts) -> list[str]:
    """Clinical quantities a method with ``parts`` cannot produce."""
    if not parts.scar:
        return [*_SCAR_KEYS, *_MYOCARDIUM_KEYS]
    return [] if parts.tissue_complete else list(_MYOCARDIUM_KEYS)


def clinical_agreement(subjects: Sequence[PairedSubject]) -> dict[str, Any]:
    """Table 2 (see the module docstring). Slices the prediction's quality check did not assess are left
    out on both sides (their scar is not defined); ``n_slices_not_assessed`` counts them."""
    not_defined = _clinical_not_defined(cohort_parts(subjects))
    reasons = {k: METHOD_LACKS for k in not_defined}
    if not scar_annotated(subjects):
        not_defined = [*_SCAR_KEYS, *_MYOCARDIUM_KEYS]
        reasons = {k: reasons.get(k, NO_REFERENCE_SCAR) for k in not_defined}
    if len(not_defined) == len(_SCAR_KEYS) + len(_MYOCARDIUM_KEYS):  # no scar on one side: nothing to compare
        return {"n_subjects": sum(s.clinical_ref is not None for s in subjects),
                "n_subjects_without_reference": sum(s.clinical_ref is None for s in subjects),
                **{k: None for k in not_defined}, "not_defined": not_defined, "not_defined_reasons": reasons,
                "n_slices_not_assessed": sum(s.n_slices_not_assessed for s in subjects),
                "transmural_threshold": TRANSMURAL_THRESHOLD}
    with_ref = [s for s in subjects if s.clinical_ref is not None]
    # every subject predicts a segmentation here: a method without one defines no Table 2 value
    both = [(p, r) for s in with_ref
            if (p := s.clinical_pred) is not None and (r := s.clinical_ref) is not None]
    sp = [p["subject"] for p, _ in both]
    sr = [r["subject"] for _, r in both]
    slice_pred = [sl["quantities"]["scar_area_cm2"] for p, _ in both for sl in p["slices"]]
    slice_ref = [sl["quantities"]["scar_area_cm2"] for _, r in both for sl in r["slices"]]
    out: dict[str, Any] = {
        "n_subjects": len(with_ref),
        "n_subjects_without_reference": len(subjects) - len(with_ref),
    }

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
    out.update({k: None for k in not_defined})
    out["not_defined"] = not_defined
    out["not_defined_reasons"] = reasons
    out["n_slices_not_assessed"] = sum(s.n_slices_not_assessed for s in subjects)
    return out


def per_subject_rows(subjects: Sequence[PairedSubject]) -> list[dict[str, Any]]:
    """One row per subject, for worst-case lists (scar ratio error, Dice, SSIM).

    ``dice_myocardium`` scores healthy myocardium and scar together (defined on every reference with a
    myocardium); scar and overall Dice are ``None`` where the reference does not annotate scar.
    """
    rows = []
    for s in subjects:
        pred = s.clinical_pred["subject"] if s.clinical_pred is not None else {}
        row: dict[str, Any] = {"subject": s.subject_id,
                               "scar_volume_ml_pred": pred.get("scar_volume_ml") if s.parts.scar else None,
                               "scar_ratio_pred": pred.get("scar_ratio") if s.parts.tissue_complete else None,
                               "n_slices_not_assessed": s.n_slices_not_assessed}
        if s.labels_ref is not None and s.labels_pred is not None:
            m = SegmentationMetrics(hd95=False)
            m(s.labels_pred, s.labels_ref)
            agg = m.aggregate()
            overall = s.parts.tissue_complete and s.scar_annotated
            row["dice_overall"] = agg["overall"]["dice"].mean if overall else None
            scar = s.parts.scar and s.scar_annotated
            row["dice_scar"] = agg["per_class"]["scar"]["dice"].mean if scar else None
            if s.parts.tissue_complete:
                merged = SegmentationMetrics(hd95=False)
                merged(merge_scar(s.labels_pred), merge_scar(s.labels_ref))
                per_class = merged.aggregate()["per_class"]
                row["dice_myocardium"] = per_class["healthy_myocardium"]["dice"].mean
                row["dice_blood_pool"] = per_class["lv_blood_pool"]["dice"].mean
        if s.lge_ref is not None and s.lge_pred is not None:
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
