"""An optional output (derived DICOM series, DICOM SEG) that cannot be written never costs the prediction:
the NIfTI results are written, the failure is named in the subject's ``outputs.json``, the summary and the
command's output, and the exit code is 1, as for an input that could not be predicted."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.predictions import LGE_FILE, OUTPUTS_FILE, SEG_FILE
from pscgan.inference import dicom_seg

runner = CliRunner()


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise ValueError("injected SEG failure")


def _predict(series: Path, weights: Path, out: Path, *extra: str) -> Any:
    return runner.invoke(app, ["predict", str(series), "--weights", str(weights), "--out", str(out), *extra])


def test_failing_seg_keeps_the_prediction(write_dicom_cine: Callable[..., Path], tiny_weights: Path,
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    series, out = write_dicom_cine(tmp_path / "series_a"), tmp_path / "pred"
    monkeypatch.setattr(dicom_seg, "build_segmentation", _refuse)
    res = _predict(series, tiny_weights, out)
    assert res.exit_code == 1, res.output
    lines = [line for line in res.output.splitlines() if line.startswith("failed:")]
    assert lines == ["failed: series_a: DICOM SEG (dicom/segmentation.dcm) not written: ValueError: "
                     "injected SEG failure; the NIfTI results are written"]
    subject = out / "series_a"
    assert (subject / LGE_FILE).is_file() and (subject / SEG_FILE).is_file()
    assert len(list((subject / "dicom" / "synthetic_lge").iterdir())) == 2  # the other DICOM output stands
    assert not (subject / "dicom" / "segmentation.dcm").exists()
    record = json.loads((subject / OUTPUTS_FILE).read_text())
    assert record == {"failed": [{"output": "dicom/segmentation.dcm", "description": "DICOM SEG",
                                  "error": "ValueError: injected SEG failure"}], "notes": []}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["predicted"] == ["series_a"] and summary["failures"] == []
    assert [(f["subject"], f["output"]) for f in summary["output_failures"]] == [("series_a",
                                                                                 "dicom/segmentation.dcm")]
    # --resume predicts the subject again, since an output is missing; now it is complete.
    monkeypatch.undo()
    res = _predict(series, tiny_weights, out, "--resume")
    assert res.exit_code == 0, res.output
    assert (subject / "dicom" / "segmentation.dcm").is_file()
    assert json.loads((subject / OUTPUTS_FILE).read_text())["failed"] == []


def test_missing_source_images_fail_both_dicom_outputs(write_dicom_cine: Callable[..., Path],
                                                       tiny_weights: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from pscgan.inference import dicom_export

    series, out = write_dicom_cine(tmp_path / "series_a"), tmp_path / "pred"
    real = dicom_export.find_source_images

    def moved_away(cine: Any, phase: int = 0) -> Any:  # the folder goes between reading and export
        shutil.rmtree(series)
        return real(cine, phase)

    monkeypatch.setattr(dicom_export, "find_source_images", moved_away)
    res = _predict(series, tiny_weights, out)
    assert res.exit_code == 1, res.output
    assert "failed: series_a: DICOM outputs (dicom/) not written: InputError:" in res.output
    assert (out / "series_a" / LGE_FILE).is_file() and not (out / "series_a" / "dicom").exists()


def test_a_dicom_subject_without_its_outputs_record_is_judged_by_what_is_on_disk(
        write_dicom_cine: Callable[..., Path], tiny_weights: Path, tmp_path: Path) -> None:
    """Without outputs.json (a pscgan from before it, or deleted), ``--resume`` keeps a DICOM subject whose
    DICOM outputs are all on disk and predicts again one whose SEG is missing, never assuming none failed."""
    series, out = write_dicom_cine(tmp_path / "series_a"), tmp_path / "pred"
    assert _predict(series, tiny_weights, out).exit_code == 0
    subject = out / "series_a"
    (subject / OUTPUTS_FILE).unlink()
    res = _predict(series, tiny_weights, out, "--resume")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "summary.json").read_text())["kept_from_before"] == ["series_a"]
    (subject / "dicom" / "segmentation.dcm").unlink()
    res = _predict(series, tiny_weights, out, "--resume")
    assert res.exit_code == 0, res.output
    assert json.loads((out / "summary.json").read_text())["predicted"] == ["series_a"]
    assert (subject / "dicom" / "segmentation.dcm").is_file()
    assert json.loads((subject / OUTPUTS_FILE).read_text())["failed"] == []
