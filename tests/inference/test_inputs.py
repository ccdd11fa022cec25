"""What ``pscgan predict`` accepts: datasets, subjects, cine files, DICOM series and batches of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pscgan.errors import InputError
from pscgan.inference.inputs import InputKind, discover_inputs


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_folder_of_dicom_series_folders_is_one_subject_per_series(tmp_path):
    for name in ("patient_b", "patient_a"):
        _touch(tmp_path / "export" / name / "IM0001")
    (tmp_path / "export" / "empty").mkdir()  # holds no files: not a series
    _touch(tmp_path / "export" / ".DS_Store")
    items = discover_inputs(tmp_path / "export")
    assert [(i.name, i.kind) for i in items] == [("patient_a", InputKind.DICOM),
                                                 ("patient_b", InputKind.DICOM)]


def test_a_folder_of_cine_files_is_one_subject_per_file(tmp_path):
    _touch(tmp_path / "cines" / "p1.nii.gz")
    _touch(tmp_path / "cines" / "p2.npz")
    _touch(tmp_path / "cines" / "p3" / "IM0001")
    items = discover_inputs(tmp_path / "cines")
    assert [(i.name, i.kind) for i in items] == [
        ("p1", InputKind.NIFTI), ("p2", InputKind.NPZ), ("p3", InputKind.DICOM)]


def test_a_folder_with_its_own_files_stays_one_dicom_series(tmp_path):
    _touch(tmp_path / "series" / "IM0001")
    _touch(tmp_path / "series" / "sub" / "IM0002")  # e.g. a scanner's extra folder beside the images
    assert [(i.name, i.kind) for i in discover_inputs(tmp_path / "series")] == [("series", InputKind.DICOM)]


def test_a_folder_without_any_cine_names_what_it_expected(tmp_path):
    (tmp_path / "nothing" / "empty").mkdir(parents=True)
    with pytest.raises(InputError, match="holds no cine") as err:
        discover_inputs(tmp_path / "nothing")
    assert "nothing" in str(err.value)


def test_the_real_sunnybrook_dicom_export_is_a_batch_of_two(sunnybrook_dir):
    items = discover_inputs(sunnybrook_dir / "dicom")
    assert [(i.name, i.kind) for i in items] == [("SCD0000101", InputKind.DICOM),
                                                 ("SCD0000201", InputKind.DICOM)]
