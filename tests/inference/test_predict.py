"""Prediction on new data: inputs of every kind, original geometry, per-input failures, resume."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.inference.inputs import discover_inputs, load_input
from pscgan.inference.predictor import Predictor
from pscgan.io.nifti import write_nifti

runner = CliRunner()


def test_predict_dataset_writes_original_geometry(tiny_ring_dataset, tiny_weights, tmp_path):
    out = tmp_path / "pred"
    res = runner.invoke(
        app, ["predict", str(tiny_ring_dataset), "--weights", str(tiny_weights), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    subj = out / "ring_00"
    src = nib.load(str(tiny_ring_dataset / "ring_00" / "cine.nii.gz"))
    seg = nib.load(str(subj / "segmentation.nii.gz"))
    lge = nib.load(str(subj / "synthetic_lge.nii.gz"))
    assert seg.shape == src.shape[:3] and lge.shape == src.shape[:3]
    np.testing.assert_allclose(seg.affine, src.affine)
    assert set(np.unique(np.asarray(seg.dataobj))) <= {0, 1, 2, 3}
    lge_arr = np.asarray(lge.dataobj)
    assert 0.0 <= lge_arr.min() and lge_arr.max() <= 1.0
    clinical = json.loads((subj / "clinical.json").read_text())
    assert "scar_volume_ml" in clinical["subject"]
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["predicted"]) == 8 and summary["failures"] == []
    assert (out / "subjects.csv").read_text().count("\n") == 9
    with np.load(subj / "network.npz") as z:
        assert z["cine"].shape[1:] == (4, 16, 16) and z["segmentation"].shape == (2, 16, 16)


def test_predict_nifti_file_and_bad_inputs_in_one_batch(tiny_ring_dataset, tiny_weights, tmp_path):
    cine = nib.load(str(tiny_ring_dataset / "ring_01" / "cine.nii.gz"))
    good = tmp_path / "patient_a.nii.gz"
    nib.save(cine, str(good))
    bad = tmp_path / "flat.nii.gz"
    write_nifti(bad, np.zeros((24, 24, 2), np.float32), spacing=(1.5, 1.5, 8.0))
    nan = tmp_path / "nan.nii.gz"
    arr = np.asarray(cine.dataobj).copy()
    arr[0, 0, 0, 0] = np.nan
    write_nifti(nan, arr, spacing=(1.5, 1.5, 8.0))
    out = tmp_path / "pred"
    res = runner.invoke(app, ["predict", str(good), str(bad), str(nan), str(tmp_path / "missing.nii.gz"),
                              "--weights", str(tiny_weights), "--out", str(out)])
    assert res.exit_code == 1
    assert (out / "patient_a" / "segmentation.nii.gz").is_file()
    summary = json.loads((out / "summary.json").read_text())
    errors = " | ".join(f["error"] for f in summary["failures"])
    assert "flat.nii.gz" in errors and "nan.nii.gz" in errors and "missing.nii.gz" in errors
    assert summary["predicted"] == ["patient_a"]


def test_resume_keeps_finished_subjects(tiny_ring_dataset, tiny_weights, tmp_path):
    out = tmp_path / "pred"
    args = ["predict", str(tiny_ring_dataset / "ring_00"), str(tiny_ring_dataset / "ring_01"),
            "--weights", str(tiny_weights), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    stamp = (out / "ring_00" / "clinical.json").stat().st_mtime_ns
    (out / "ring_01" / "clinical.json").unlink()          # as if killed before finishing ring_01
    (out / ".ring_02.partial").mkdir()                    # a half-written leftover
    res = runner.invoke(app, args + ["--resume"])
    assert res.exit_code == 0, res.output
    assert (out / "ring_00" / "clinical.json").stat().st_mtime_ns == stamp
    assert (out / "ring_01" / "clinical.json").is_file()
    assert runner.invoke(app, args).exit_code == 2        # refuses a non-empty folder without --resume


def test_weights_of_another_preset_or_corrupted_are_refused(tiny_weights, tmp_path):
    from pscgan.config.presets import get_preset
    from pscgan.errors import InputError
    from pscgan.models.weights import load_weights

    with pytest.raises(InputError, match="preset"):
        load_weights(tiny_weights, expect=get_preset("cpu"))
    data = bytearray(tiny_weights.read_bytes())
    data[-5] ^= 0xFF
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(InputError, match="checksum"):
        load_weights(bad)
    res = runner.invoke(
        app, ["predict", str(tmp_path / "data"), "--weights", str(bad), "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "checksum" in res.output


def test_predictor_api(tiny_ring_dataset, tiny_weights):
    item = load_input(discover_inputs(tiny_ring_dataset / "ring_02")[0])
    pred = Predictor.from_weights(tiny_weights).predict(item)
    assert pred.labels.shape == (2, 16, 16) and pred.coarse_labels.shape == (2, 16, 16)
    assert pred.labels_original.shape == (24, 24, 2)


def test_predict_dicom_series_end_to_end(tiny_ring_dataset, tiny_weights, tmp_path, dicom_kit):
    """A DICOM cine in, NIfTI + DICOM derived MR + DICOM SEG out, with no patient identifier."""
    import pydicom

    kit = dicom_kit
    cine = np.asarray(nib.load(str(tiny_ring_dataset / "ring_03" / "cine.nii.gz")).dataobj)
    folder = tmp_path / "dicom_cine"
    folder.mkdir()
    positions = kit.slice_positions(cine.shape[2])
    for k in range(cine.shape[2]):
        for t in range(cine.shape[3]):
            ds = kit.make_dataset(
                np.clip(cine[:, :, k, t].T, 0, 4000).astype(np.uint16),
                position=positions[k],
                spacing_rc=(1.5, 1.5),
                trigger_ms=t * 150.0,
                instance=k * cine.shape[3] + t + 1,
            )
            ds.save_as(folder / f"IM{k:02d}{t:02d}.dcm", enforce_file_format=True)
    out = tmp_path / "pred"
    res = runner.invoke(app, ["predict", str(folder), "--weights", str(tiny_weights), "--out", str(out)])
    assert res.exit_code == 0, res.output
    subj = out / "dicom_cine"
    lge_files = sorted((subj / "dicom" / "synthetic_lge").iterdir())
    assert len(lge_files) == cine.shape[2]
    seg = pydicom.dcmread(subj / "dicom" / "segmentation.dcm")
    assert seg.Modality == "SEG"
    for f in [*lge_files, subj / "dicom" / "segmentation.dcm", subj / "clinical.json", out / "summary.json"]:
        data = f.read_bytes()
        assert kit.PATIENT_NAME.encode() not in data and b"PID-4711" not in data, f


def test_predict_one_split_part(tiny_ring_dataset, tiny_weights, tmp_path):
    manifest = json.loads((tiny_ring_dataset / "dataset.json").read_text())
    out = tmp_path / "pred"
    res = runner.invoke(
        app,
        [
            "predict",
            str(tiny_ring_dataset),
            "--split",
            "test",
            "--weights",
            str(tiny_weights),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((out / "summary.json").read_text())["predicted"] == manifest["split"]["test"]
    res = runner.invoke(
        app,
        [
            "predict",
            str(tiny_ring_dataset),
            "--split",
            "nope",
            "--weights",
            str(tiny_weights),
            "--out",
            str(tmp_path / "p2"),
        ],
    )
    assert res.exit_code == 1 and "no split part 'nope'" in res.output


def test_half_precision_weights_load_and_agree(tiny_weights, tmp_path):
    import torch

    from pscgan.models.weights import load_weights, save_weights

    cascade, cfg = load_weights(tiny_weights)
    half = tmp_path / "half.safetensors"
    save_weights(half, cascade, cfg, half=True)
    cascade16, _ = load_weights(half)
    x = torch.rand(2, 1, cfg.model.frames, cfg.model.image_size, cfg.model.image_size) * 2 - 1
    with torch.no_grad():
        a, b = cascade(x), cascade16(x)
    assert torch.allclose(a["lge"], b["lge"], atol=5e-2)
    assert half.stat().st_size < tiny_weights.stat().st_size


def test_ed_phase_option_reads_the_cine_from_that_phase(tiny_ring_dataset, tiny_weights, tmp_path):
    cine = nib.load(str(tiny_ring_dataset / "ring_01" / "cine.nii.gz"))
    arr = np.asarray(cine.dataobj)
    nib.save(cine, str(tmp_path / "as_is.nii.gz"))
    # the same cine with phase 1 first: read from phase 1 on, both are the same input
    rolled = nib.Nifti1Image(np.roll(arr, -1, axis=3), cine.affine, cine.header)
    nib.save(rolled, str(tmp_path / "rolled.nii.gz"))
    args = ["--weights", str(tiny_weights), "--no-anatomy"]
    res = runner.invoke(app, ["predict", str(tmp_path / "as_is.nii.gz"), "--ed-phase", "1", "--out",
                              str(tmp_path / "a"), *args])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["predict", str(tmp_path / "rolled.nii.gz"), "--out", str(tmp_path / "b"),
                              *args])
    assert res.exit_code == 0, res.output
    records = json.loads((tmp_path / "a" / "as_is" / "records.json").read_text())
    assert {r["temporal"]["ed_phase"] for r in records} == {1}
    # clinical.json and the report say which phase was read as end-diastole, and why
    n = arr.shape[3]
    clinical = json.loads((tmp_path / "a" / "as_is" / "clinical.json").read_text())
    assert clinical["end_diastole"] == {"phase": 1, "phases": n, "from": "asked for (--ed-phase)"}
    clinical_b = json.loads((tmp_path / "b" / "rolled" / "clinical.json").read_text())
    assert clinical_b["end_diastole"] == {"phase": 0, "phases": n, "from": "the first phase of the input"}
    res = runner.invoke(app, ["report", str(tmp_path / "a"), "--out", str(tmp_path / "report")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "report" / "subjects" / "as_is.html").read_text()
    assert f"input phase 1 (counted from 0, of {n}): asked for (--ed-phase)" in page
    seg_a = np.asarray(nib.load(str(tmp_path / "a" / "as_is" / "segmentation.nii.gz")).dataobj)
    seg_b = np.asarray(nib.load(str(tmp_path / "b" / "rolled" / "segmentation.nii.gz")).dataobj)
    np.testing.assert_array_equal(seg_a, seg_b)
    # a phase the cine does not have fails for that input, naming it
    res = runner.invoke(app, ["predict", str(tmp_path / "as_is.nii.gz"), "--ed-phase", str(arr.shape[3]),
                              "--out", str(tmp_path / "c"), *args])
    assert res.exit_code == 1
    error = json.loads((tmp_path / "c" / "summary.json").read_text())["failures"][0]["error"]
    assert "as_is.nii.gz" in error and f"end-diastolic phase {arr.shape[3]}" in error
