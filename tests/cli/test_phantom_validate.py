from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.layout import Provenance, SliceInfo, SliceLevel, SubjectInfo, write_subject

EMIDEC = Path(__file__).resolve().parents[1] / "data" / "emidec-samples"


def _flat(text: str) -> str:
    """Console output with line wrapping undone."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def still_dataset(tmp_path_factory) -> Path:
    """Two subjects whose hearts do not move (every phase the ED ring): a dataset the validation must
    flag (no thickening, no area change) without failing the command."""
    root = tmp_path_factory.mktemp("still")
    rows, cols = np.indices((64, 64))
    r = np.hypot(rows - 32, cols - 32) * 1.5
    labels = np.where(r < 24, 1, np.where(r < 31, 2, 0)).astype(np.uint8)
    labels[(r >= 24) & (r < 27) & (cols < 32)] = 3
    rng = np.random.default_rng(0)
    for i, normal in enumerate((False, True)):
        lab = labels if not normal else np.minimum(labels, 2)
        cine = np.choose(lab, [60.0, 300.0, 100.0, 97.0])[..., None] + rng.normal(0, 3, (64, 64, 25))
        lge = np.choose(lab, [30.0, 100.0, 5.0, 120.0]) + rng.normal(0, 3, (64, 64))
        mid = SliceInfo(index=0, level=SliceLevel.MID, rv_insertion_angle_deg=120.0)
        info = SubjectInfo(subject_id=f"still{i}", pixel_spacing_mm=(1.5, 1.5), slice_thickness_mm=8.0,
                           n_phases=25, normal=normal, slices=[mid],
                           provenance=Provenance(source="phantom", created_by="tests"))
        phases = np.repeat(lab.T[:, :, None, None], 25, axis=3)
        write_subject(root, info, cine=np.abs(cine).transpose(1, 0, 2)[:, :, None, :], lge=lge.T[:, :, None],
                      labels=lab.T[:, :, None], cine_labels=phases)
    return root


def test_validate_writes_report_and_counts_warnings(still_dataset, tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["phantom", "validate", str(still_dataset), "--out", str(out),
                                      "--reference", str(EMIDEC)])
    assert result.exit_code == 0, result.output
    assert "Phantom validation" in result.output and "cine_blood_myo" in result.output
    doc = json.loads((out / "validation.json").read_text())
    assert doc["n_failed"] >= 1  # a heart that does not move is outside the spec
    assert f"warning: {doc['n_failed']} of {doc['n_checks']}" in _flat(result.output)
    for name in ("validation.md", "cases.png", "thickening.png", "lge_histograms.png"):
        assert (out / name).stat().st_size > 0


def test_refuses_non_empty_output_without_overwrite(still_dataset, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    result = CliRunner().invoke(app, ["phantom", "validate", str(still_dataset), "--out", str(out)])
    assert result.exit_code == 2
    assert "already holds data" in _flat(result.output) and "Traceback" not in result.output
    assert (out / "keep.txt").read_text() == "user data"
    result = CliRunner().invoke(app, ["phantom", "validate", str(still_dataset), "--out", str(out),
                                      "--overwrite"])  # a folder pscgan did not write is never emptied
    assert result.exit_code == 2 and "did not write" in _flat(result.output)
    (out / "keep.txt").unlink()
    assert (
        CliRunner().invoke(app, ["phantom", "validate", str(still_dataset), "--out", str(out)]).exit_code == 0
    )
    (out / "keep.txt").write_text("added later")
    result = CliRunner().invoke(app, ["phantom", "validate", str(still_dataset), "--out", str(out),
                                      "--overwrite"])
    assert result.exit_code == 0, result.output
    assert not (out / "keep.txt").exists() and (out / "validation.json").is_file()


def test_missing_dataset_or_reference_is_a_clean_error(still_dataset, tmp_path):
    result = CliRunner().invoke(app, ["phantom", "validate", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "not found" in _flat(result.output)
    (tmp_path / "ref").mkdir()
    result = CliRunner().invoke(app, ["phantom", "validate", str(still_dataset), "--out", str(tmp_path / "o"),
                                      "--reference", str(tmp_path / "ref")])
    assert result.exit_code == 2 and "no reference cases" in _flat(result.output)
    assert not (tmp_path / "o").exists()  # inputs are checked before anything is written
