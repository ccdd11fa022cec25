"""Per-subject and per-run metrics, checked against direct computations."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pscgan.evaluation.parts import DefinedParts
from pscgan.experiments.metrics import RUN_METRICS, flatten_evaluation, run_metrics, subject_metrics


def _subject(sid, rng, with_lge=True, ratio=(0.2, 0.25), parts=None):
    ref = rng.integers(0, 4, (3, 12, 12)).astype(np.uint8)
    pred = ref.copy()
    pred[:, :4] = rng.integers(0, 4, (3, 4, 12))
    lge_ref = rng.uniform(-1, 1, (3, 12, 12))
    return SimpleNamespace(
        subject_id=sid,
        labels_pred=pred,
        labels_ref=ref,
        lge_pred=np.clip(lge_ref + rng.normal(0, 0.2, lge_ref.shape), -1, 1) if with_lge else None,
        lge_ref=lge_ref,
        clinical_pred={"subject": {"scar_ratio": ratio[0]}},
        clinical_ref={"subject": {"scar_ratio": ratio[1]}},
        parts=parts or DefinedParts(),
    )


def test_subject_metrics_match_direct_counts():
    rng = np.random.default_rng(0)
    s = _subject("a", rng)
    row = subject_metrics([s])["a"]
    dice_scar, acc = [], []
    for p, r in zip(s.labels_pred, s.labels_ref, strict=True):
        a, b = p == 3, r == 3
        dice_scar.append(2 * (a & b).sum() / (a.sum() + b.sum()))
        acc.append(np.mean([np.mean((p == c) == (r == c)) for c in (1, 2, 3)]))
    assert row["dice_scar"] == pytest.approx(np.mean(dice_scar))
    assert row["accuracy"] == pytest.approx(np.mean(acc))
    assert row["scar_ratio_abs_error"] == pytest.approx(0.05)
    assert 0 < row["ssim"] < 1 and row["psnr_db"] > 0


def test_missing_parts_are_undefined():
    rng = np.random.default_rng(1)
    s = _subject("b", rng, with_lge=False, ratio=(None, 0.1))
    row = subject_metrics([s])["b"]
    assert row["ssim"] is None and row["psnr_db"] is None and row["scar_ratio_abs_error"] is None
    assert row["dice_overall"] is not None


def test_a_scar_only_segmentation_pairs_on_scar_dice_only():
    # a scar-only segmenter writes 0 for "not scar": overall accuracy and Dice would compare it with
    # classes it never segments, so they stay undefined, as in its evaluation
    rng = np.random.default_rng(2)
    scar_only = DefinedParts(producer="scar_unet3d", synthetic_lge=False, segmentation_classes=(3,))
    row = subject_metrics([_subject("c", rng, with_lge=False, parts=scar_only)])["c"]
    assert row["accuracy"] is None and row["dice_overall"] is None
    assert row["dice_scar"] is not None


def _summary(mean):
    return {"mean": mean, "sd": 0.01, "median": mean, "n": 4, "n_undefined": 0}


def test_run_metrics_and_flattening_read_evaluation_json():
    seg = {
        "overall": {m: _summary(0.9) for m in ("accuracy", "sensitivity", "specificity", "dice", "hd95_mm")},
        "per_class": {
            c: {m: _summary(0.5) for m in ("accuracy", "sensitivity", "specificity", "dice", "hd95_mm")}
            for c in ("other", "lv_blood_pool", "healthy_myocardium", "scar")
        },
    }
    evaluation = {
        "imaging": {
            "segmentation": seg,
            "synthesis": {"ssim": _summary(0.7), "psnr_db": _summary(20.0), "nrmse": _summary(0.3)},
        },
        "clinical": {
            "scar_ratio": {"pearson": {"r": 0.8}, "bland_altman": {"bias": 0.01}},
            "scar_size_slice_cm2": {"pearson": {"r": None}, "bland_altman": {"bias": None}},
            "segment_localisation": {"sensitivity": 0.75, "auc": None},
            "transmurality": None,
        },
        "per_subject": [
            {"scar_ratio_abs_error": 0.1},
            {"scar_ratio_abs_error": None},
            {"scar_ratio_abs_error": 0.3},
        ],
    }
    m = run_metrics(evaluation)
    assert set(m) == set(RUN_METRICS)
    assert (m["accuracy"], m["dice_scar"], m["ssim"], m["scar_ratio_r"]) == (0.9, 0.5, 0.7, 0.8)
    assert m["scar_size_r"] is None and m["scar_ratio_abs_error"] == pytest.approx(0.2)
    flat = flatten_evaluation(evaluation)
    assert flat["segmentation.scar.dice"] == 0.5 and flat["synthesis.psnr_db"] == 20.0
    assert flat["segment_localisation.sensitivity"] == 0.75 and flat["transmurality.auc"] is None
    assert flat["scar_ratio.bias"] == 0.01
