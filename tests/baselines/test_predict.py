"""Baseline predictions: the `pscgan predict` layout with only the baseline's parts, scored by evaluate()."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pscgan.baselines.outputs import scar_only_clinical
from pscgan.evaluation.evaluate import evaluate
from pscgan.evaluation.parts import read_parts
from pscgan.io.nifti import read_nifti

SEGMENTATION = {"segmentation.nii.gz", "clinical.json"}
FILES = {"scar_unet3d": SEGMENTATION, "monai_unet": SEGMENTATION, "pix2pix": {"synthetic_lge.nii.gz"}}
COMMON = {"network.npz", "records.json", "parts.json"}


@pytest.mark.parametrize("kind", sorted(FILES))
def test_prediction_folder_has_only_the_parts_of_the_baseline(kind, baseline_predictions, baseline_split,
                                                              tiny_ring_dataset):
    out = baseline_predictions[kind]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["subjects"] == baseline_split["test"] and summary["weights"]["baseline"] == kind
    assert summary["weights"]["register_lge"] is True  # read by evaluate to register the reference alike
    for sid in baseline_split["test"]:
        assert {f.name for f in (out / sid).iterdir()} == FILES[kind] | COMMON
        assert read_parts(out / sid).producer == kind
        cine = read_nifti(tiny_ring_dataset / sid / "cine.nii.gz", ndim=4)
        name = "synthetic_lge.nii.gz" if kind == "pix2pix" else "segmentation.nii.gz"
        written = read_nifti(out / sid / name, ndim=3)
        assert written.array.shape == cine.array.shape[:3]  # the original geometry
        assert np.allclose(written.affine, cine.affine)
        if kind == "scar_unet3d":
            assert set(np.unique(written.array)) <= {0, 3}


def test_scar_only_clinical_keeps_scar_sizes_and_drops_the_rest(baseline_predictions, baseline_split):
    q = json.loads(
        (baseline_predictions["scar_unet3d"] / baseline_split["test"][0] / "clinical.json").read_text()
    )
    assert q["subject"]["scar_volume_ml"] is not None
    assert q["subject"]["scar_ratio"] is None and q["subject"]["myocardium_volume_ml"] is None
    assert q["segments"] == {} and all(s["segments"] == [] for s in q["slices"])
    assert all(s["quantities"]["scar_area_cm2"] is not None for s in q["slices"])


def test_scar_only_clinical_on_a_full_quantification():
    full = {"subject": {"scar_volume_ml": 2.0, "myocardium_volume_ml": 8.0, "blood_pool_volume_ml": 9.0,
                        "scar_ratio": 0.25, "n_slices": 1, "n_slices_with_myocardium": 1},
            "slices": [{"index": 0, "segments": [{"segment": 1}],
                        "quantities": {"scar_area_cm2": 1.0, "myocardium_area_cm2": 4.0,
                                       "healthy_myocardium_area_cm2": 3.0, "blood_pool_area_cm2": 5.0,
                                       "scar_ratio": 0.25}}],
            "segments": {"1": {}}, "notes": []}
    q = scar_only_clinical(full)
    assert q["subject"]["scar_volume_ml"] == 2.0 and q["slices"][0]["quantities"]["scar_area_cm2"] == 1.0
    assert q["subject"]["scar_ratio"] is None and q["slices"][0]["quantities"]["blood_pool_area_cm2"] is None
    assert full["subject"]["scar_ratio"] == 0.25  # the input is not modified


@pytest.mark.parametrize("kind", sorted(FILES))
def test_evaluate_reports_what_the_baseline_lacks_as_not_defined(
    kind, baseline_predictions, tiny_ring_dataset, tmp_path
):
    result = evaluate(baseline_predictions[kind], tiny_ring_dataset, tmp_path / "ev")
    data = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    seg, syn, clin = data["imaging"]["segmentation"], data["imaging"]["synthesis"], data["clinical"]
    table1 = (tmp_path / "ev" / "table1.md").read_text()
    table2 = (tmp_path / "ev" / "table2.md").read_text()
    assert result["n_subjects"] == 2 and "NaN" not in json.dumps(data)
    assert data["reference_registration"]["source"] == "predictions"
    assert data["reference_registration"]["register_lge"] is True
    if kind == "pix2pix":
        assert seg is None and "segmentation" in data["imaging"]["not_defined"]
        assert syn["ssim"]["n"] == 4  # 2 test subjects x 2 slices
        assert clin["scar_volume_ml"] is None and clin["scar_ratio"] is None
        assert "| Scar | n/d | n/d | n/d | n/d | n/d |" in table1
        assert "| Scar volume (ml) | n/d |" in table2
    else:
        assert syn is None and "synthesis" in data["imaging"]["not_defined"]
        assert "| n/d | n/d | n/d |" in table1
        assert seg["per_class"]["scar"]["dice"]["n"] + seg["per_class"]["scar"]["dice"]["n_undefined"] == 4
        assert clin["scar_volume_ml"]["pearson"]["n"] == 2
    if kind == "scar_unet3d":
        assert seg["overall"] is None and seg["per_class"]["healthy_myocardium"] is None
        assert "| Overall | n/d |" in table1 and "| Blood pool | n/d |" in table1
        assert clin["scar_ratio"] is None and clin["segment_localisation"] is None
        assert "| Scar ratio (%) | n/d |" in table2
        assert all(r["scar_ratio_pred"] is None and r["dice_overall"] is None for r in data["per_subject"])
    if kind == "monai_unet":
        assert seg["overall"]["dice"]["n"] == 4 and clin["not_defined"] == []
        assert "n/d" not in table2
