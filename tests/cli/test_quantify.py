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
