"""Whatever names appear in the inputs, every file pscgan writes stays inside the chosen output folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nibabel as nib
import pytest
from typer.testing import CliRunner

from pscgan.cli.main import app
from pscgan.data.predictions import MAX_NAME_BYTES, check_output_name
from pscgan.errors import InputError
from pscgan.inference.batch import predict_batch
from pscgan.inference.inputs import discover_inputs

runner = CliRunner()

#: Hostile values planted in DICOM tags; subject names never come from tags, so they only reach contents.
HOSTILE_TAGS = {"PatientID": "../../etc/evil", "SeriesDescription": "/abs/path", "PatientName": "a\x00b",
                "StudyDescription": "..\\..\\evil", "StudyID": ".."}


def _tree(root: Path, skip: Path) -> dict[str, int]:
    """Every file under ``root`` except under ``skip``, with its size (what a stray write would change)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) != skip]
        for f in files:
            found[str(Path(folder, f).relative_to(root))] = Path(folder, f).stat().st_size
    return found


def _all_inside(out: Path) -> list[Path]:
    files = [Path(d, f) for d, _, fs in os.walk(out) for f in fs]
    for f in files:
        assert f.resolve().is_relative_to(out.resolve()), f
    return files


@pytest.mark.parametrize("name", ["ring_00", "patient 7", "sub-01_ses-2", "é" * 100, "x" * MAX_NAME_BYTES])
def test_ordinary_names_are_accepted(name: str) -> None:
    assert check_output_name(name) == name


@pytest.mark.parametrize("name", ["", ".", "..", "../../etc/evil", "/abs/path", "a/b", "a\\b", "a\x00b",
                                  "tab\tname", ".hidden", ".s.partial", "~user", "x" * (MAX_NAME_BYTES + 1),
                                  "é" * 101, "caf\udce9"])
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(InputError, match="rename the input"):
        check_output_name(name, Path("input"))


def test_the_current_folder_is_named_after_itself(tiny_ring_dataset: Path, monkeypatch) -> None:
    monkeypatch.chdir(tiny_ring_dataset / "ring_01")
    assert [i.name for i in discover_inputs(Path("."))] == ["ring_01"]


def test_hostile_file_names_fail_alone_and_write_nothing_outside(tiny_ring_dataset: Path, tiny_weights: Path,
                                                                  tmp_path: Path) -> None:
    cine = nib.load(str(tiny_ring_dataset / "ring_00" / "cine.nii.gz"))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    names = ["...nii.gz", "a\\b.nii.gz", "~root.nii.gz", "tab\tname.nii.gz", "x" * 240 + ".nii.gz",
             "good.nii.gz"]
    for name in names:
        nib.save(cine, str(inputs / name))
    out = tmp_path / "deep" / "out"
    before = _tree(tmp_path, skip=out)
    summary = predict_batch([inputs / n for n in names], out, weights=tiny_weights)
    assert summary["predicted"] == ["good"]
    assert len(summary["failures"]) == len(names) - 1
    assert all("rename the input" in f["error"] for f in summary["failures"])
    assert any(f"longer than {MAX_NAME_BYTES} bytes" in f["error"] for f in summary["failures"])
    assert _tree(tmp_path, skip=out) == before
    assert {p.name for p in out.iterdir()} == {
        "good",
        "batch.json",
        "summary.json",
        "slices.csv",
        "subjects.csv",
        ".pscgan-output",
    }
    _all_inside(out)


@pytest.mark.filterwarnings("ignore:The string .* is unlikely to represent the intended person name")
def test_hostile_dicom_tags_never_name_an_output(
    write_dicom_cine, tiny_weights: Path, tmp_path: Path
) -> None:
    series = write_dicom_cine(tmp_path / "series", HOSTILE_TAGS)
    out = tmp_path / "out"
    before = _tree(tmp_path, skip=out)
    evil = Path("/etc/evil").exists(), Path("/abs/path").exists()
    res = runner.invoke(app, ["predict", str(series), "--weights", str(tiny_weights), "--out", str(out),
                              "--keep-identifiers"])
    assert res.exit_code == 0, res.output
    assert _tree(tmp_path, skip=out) == before
    assert (Path("/etc/evil").exists(), Path("/abs/path").exists()) == evil
    written = {str(f.relative_to(out)) for f in _all_inside(out)}
    assert written >= {"series/dicom/segmentation.dcm", "series/dicom/synthetic_lge/IM_0001.dcm",
                       "series/identifiers.json", "series/clinical.json"}
    assert all(w.split("/")[0] in {"series", "batch.json", "summary.json", "slices.csv", "subjects.csv",
                                    ".pscgan-output"} for w in written)
    kept = json.loads((out / "series" / "identifiers.json").read_text())
    assert kept["PatientID"] == "../../etc/evil"  # kept as asked, as content only

    report = tmp_path / "report"
    res = runner.invoke(app, ["report", str(out), "--out", str(report), "--keep-identifiers"])
    assert res.exit_code == 0, res.output
    assert {str(f.relative_to(report)) for f in _all_inside(report)} == {"index.html", "subjects/series.html",
                                                                        ".pscgan-output"}


def test_a_manifest_naming_folders_outside_the_dataset_is_refused(tiny_ring_dataset: Path, tiny_weights: Path,
                                                                  tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    (dataset / "dataset.json").write_text(json.dumps({"name": "x", "subjects": ["../../elsewhere"]}))
    res = runner.invoke(app, ["predict", str(dataset), "--weights", str(tiny_weights), "--out",
                              str(tmp_path / "out")])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit), res.output  # no traceback
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert "unsafe" in summary["failures"][0]["error"] and summary["predicted"] == []


def test_a_subject_folder_linking_outside_is_neither_reported_nor_overwritten(
        tiny_ring_dataset: Path, tiny_weights: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    predict_batch([tiny_ring_dataset / "ring_00", tiny_ring_dataset / "ring_01"], out, weights=tiny_weights)
    outside = tmp_path / "outside"
    os.replace(out / "ring_01", outside)
    (out / "ring_01").symlink_to(outside, target_is_directory=True)
    before = _tree(outside, skip=out)

    summary = predict_batch([tiny_ring_dataset / "ring_00", tiny_ring_dataset / "ring_01"], out,
                            weights=tiny_weights, resume=True)
    assert summary["kept_from_before"] == ["ring_00"] and summary["subjects"] == ["ring_00"]
    assert "unsafe" in summary["failures"][0]["error"]
    assert _tree(outside, skip=out) == before

    res = runner.invoke(app, ["report", str(out), "--out", str(tmp_path / "report")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "report" / "subjects").iterdir()) == ["ring_00.html"]
