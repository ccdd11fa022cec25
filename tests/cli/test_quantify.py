from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.io.nifti import write_nifti

runner = CliRunner()


def test_quantify_emidec_case_writes_json(emidec_dir, tmp_path):
    out = tmp_path / "q.json"
    res = runner.invoke(app, ["quantify", str(emidec_dir / "samplePositive" / "labels.nii.gz"),
                              "--labels", "emidec", "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["subject"]["scar_volume_ml"] > 0
    assert "scar ratio" in res.output
    # an existing JSON is not overwritten without --overwrite
    out.write_text("keep")
    res = runner.invoke(app, ["quantify", str(emidec_dir / "samplePositive" / "labels.nii.gz"),
                              "--labels", "emidec", "--json", str(out)])
    assert res.exit_code == 2 and out.read_text() == "keep"


def test_quantify_wrong_encoding_is_explained(emidec_dir):
    res = runner.invoke(app, ["quantify", str(emidec_dir / "samplePositive" / "labels.nii.gz")])
    assert res.exit_code == 2
    assert "--labels pscgan" in res.output and "labels.nii.gz" in res.output


def test_quantify_missing_file(tmp_path):
    res = runner.invoke(app, ["quantify", str(tmp_path / "nope.nii.gz")])
    assert res.exit_code == 2 and "file not found" in res.output


def test_quantify_slice_without_myocardium_reports_not_defined(tmp_path):
    lab = np.zeros((16, 16, 1), np.uint8)
    write_nifti(tmp_path / "l.nii.gz", lab, spacing=(1.5, 1.5, 8.0))
    res = runner.invoke(app, ["quantify", str(tmp_path / "l.nii.gz")])
    assert res.exit_code == 0, res.output
    assert "not defined" in res.output


def _ring_stack(n: int) -> np.ndarray:
    yy, xx = np.mgrid[:32, :32]
    r = np.hypot(yy - 16, xx - 16)
    lab = np.zeros((32, 32, n), np.uint8)
    lab[r < 9] = 2
    lab[r < 6] = 1
    return lab


def test_quantify_and_predict_read_levels_by_slice_index(tmp_path):
    """A subject.json listing its slices out of order (2, 0, 1): both commands give slice k the level
    the file gives index k (quantify once assigned them by list position)."""
    from types import SimpleNamespace

    from pscgan.data.layout import read_subject_info
    from pscgan.inference.outputs import quantify_prediction

    lab = _ring_stack(3)
    write_nifti(tmp_path / "labels.nii.gz", lab, spacing=(1.5, 1.5, 8.0))
    info = {"subject_id": "s", "pixel_spacing_mm": [1.5, 1.5], "slice_thickness_mm": 8.0, "n_phases": 25,
            "provenance": {"source": "nifti", "created_by": "test"},
            "slices": [{"index": 2, "level": "apical"}, {"index": 0, "level": "basal"},
                       {"index": 1, "level": "mid"}]}
    (tmp_path / "subject.json").write_text(json.dumps(info))
    out = tmp_path / "q.json"
    res = runner.invoke(app, ["quantify", str(tmp_path / "labels.nii.gz"), "--subject-json",
                              str(tmp_path / "subject.json"), "--json", str(out)])
    assert res.exit_code == 0, res.output
    quantified = {s["index"]: s["level"] for s in json.loads(out.read_text())["slices"]}
    assert quantified == {0: "basal", 1: "mid", 2: "apical"}
    item = SimpleNamespace(info=read_subject_info(tmp_path), cine=SimpleNamespace(spacing=(1.5, 1.5, 8.0)))
    predicted = quantify_prediction(item, lab).as_dict()  # type: ignore[arg-type]
    assert {s["index"]: s["level"] for s in predicted["slices"]} == quantified


def test_quantify_refuses_a_subject_json_of_other_slices(tmp_path):
    write_nifti(tmp_path / "labels.nii.gz", _ring_stack(2), spacing=(1.5, 1.5, 8.0))
    info = {"subject_id": "s", "pixel_spacing_mm": [1.5, 1.5], "slice_thickness_mm": 8.0, "n_phases": 25,
            "provenance": {"source": "nifti", "created_by": "test"},
            "slices": [{"index": 0, "level": "basal"}, {"index": 5, "level": "mid"}]}
    (tmp_path / "subject.json").write_text(json.dumps(info))
    res = runner.invoke(app, ["quantify", str(tmp_path / "labels.nii.gz"), "--subject-json",
                              str(tmp_path / "subject.json")])
    assert res.exit_code == 2 and "describes slices [0, 5]" in res.output
