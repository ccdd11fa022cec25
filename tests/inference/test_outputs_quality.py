"""The quality check in the prediction outputs: clinical.json, slices.csv, subjects.csv and summary.json."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from pscgan.data.predictions import CLINICAL_FILE
from pscgan.inference.inputs import discover_inputs, load_input
from pscgan.inference.outputs import write_subject_result, write_summary, write_tables
from pscgan.inference.predictor import Prediction
from pscgan.preprocessing.pipeline import PreprocessOptions, prepare_arrays
from pscgan.preprocessing.record import to_original_volume


def _prediction_with_an_empty_slice(item):
    """A 'prediction' whose slice 0 is the reference ring (scar included) and slice 1 holds no heart."""
    slices = prepare_arrays(item.cine, None, item.labels, PreprocessOptions(n_phases=25, crop_size=64,
                                                                            localisation="cine"),
                            subject_id=item.source.name)
    labels = np.stack([slices[0].labels, np.zeros_like(slices[1].labels)])
    lge = np.zeros(labels.shape, np.float32)
    records = [s.record for s in slices]
    return Prediction(slices=slices, lge=lge, labels=labels, coarse_labels=None,
                      lge_original=to_original_volume(list(lge), records, "image"),
                      labels_original=to_original_volume(list(labels), records, "labels"))


def test_a_slice_without_heart_is_flagged_and_not_reported_as_scar(ring_dataset, tmp_path):
    item = load_input(discover_inputs(ring_dataset / "ring_00")[0])
    out = tmp_path / "pred"
    out.mkdir()
    write_subject_result(out, item, _prediction_with_an_empty_slice(item))
    write_tables(out, ["ring_00"])
    summary = {"subjects": ["ring_00"]}
    write_summary(out, summary)

    clinical = json.loads((out / "ring_00" / CLINICAL_FILE).read_text())
    assert clinical["source"] == "ring_00/cine.nii.gz"
    good, empty = clinical["slices"]
    assert good["quality"]["assessed"] and good["quantities"]["scar_area_cm2"] > 0
    assert empty["quality"]["flags"] == ["no_heart"] and not empty["quality"]["assessed"]
    assert empty["quantities"]["scar_area_cm2"] is None and empty["quantities"]["scar_ratio"] is None
    assert clinical["subject"]["n_slices_assessed"] == 1
    assert clinical["subject"]["scar_volume_ml"] == pytest.approx(good["quantities"]["scar_area_cm2"] * 0.8)

    rows = list(csv.DictReader((out / "slices.csv").open()))
    assert [r["assessed"] for r in rows] == ["yes", "no"]
    assert rows[1]["quality_flags"] == "no_heart" and rows[1]["scar_area_cm2"] == ""
    assert "no heart found" in rows[1]["quality_reasons"] and rows[1]["localisation_confidence"] == ""
    subject = next(csv.DictReader((out / "subjects.csv").open()))
    assert subject["n_slices"] == "2" and subject["n_slices_assessed"] == "1"

    quality = json.loads((out / "summary.json").read_text())["quality"]
    assert summary["quality"] == quality
    assert quality["n_slices_checked"] == 2 and quality["n_slices_not_assessed"] == 1
    assert quality["flags"] == {"no_heart": 1}
    assert quality["not_assessed"] == [{"subject": "ring_00", "source": "ring_00/cine.nii.gz", "slice": 1,
                                        "flags": ["no_heart"], "reasons": empty["quality"]["reasons"]}]


def test_tables_of_folders_without_quality_records_leave_the_cells_empty(tmp_path):
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / CLINICAL_FILE).write_text(json.dumps({
        "subject": {"scar_volume_ml": 1.0, "myocardium_volume_ml": 10.0, "blood_pool_volume_ml": 8.0,
                    "scar_ratio": 0.1, "n_slices": 1, "n_slices_with_myocardium": 1},
        "segments": {}, "spacing_mm": [1.5, 1.5, 8.0], "scar_fraction_threshold": 0.05,
        "slices": [{"index": 0, "level": "mid", "level_source": "metadata", "rv_insertion_angle_deg": 120.0,
                    "rv_angle_source": "metadata", "segments": [], "quantities": {
                        "scar_area_cm2": 1.0, "myocardium_area_cm2": 10.0, "healthy_myocardium_area_cm2": 9.0,
                        "blood_pool_area_cm2": 8.0, "scar_ratio": 0.1}}]}))
    write_tables(tmp_path, ["s1"])
    row = next(csv.DictReader((tmp_path / "slices.csv").open()))
    assert row["assessed"] == "" and row["quality_flags"] == "" and row["scar_area_cm2"] == "1.0"
    summary = {"subjects": ["s1"]}
    write_summary(tmp_path, summary)
    assert "quality" not in summary
