"""Format dispatch of read_image and its format-independent checks."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.nifti import write_nifti
from pscgan.io.reader import input_format, read_image


def test_dispatch_nifti_npz_dicom(tmp_path, write_series):
    cine = np.random.default_rng(0).random((10, 12, 2, 20)).astype(np.float32)
    write_nifti(tmp_path / "cine.nii.gz", cine, spacing=(1.5, 1.5, 8.0))
    np.savez(tmp_path / "cine.npz", cine=cine, spacing=np.array([1.5, 1.5, 8.0]))
    folder, images = write_series()
    from_nifti = read_image(tmp_path / "cine.nii.gz", "cine")
    from_npz = read_image(tmp_path / "cine.npz", "cine")
    from_dicom = read_image(folder, "cine")
    np.testing.assert_array_equal(from_nifti.array, from_npz.array)
    assert from_nifti.spacing == from_npz.spacing
    assert from_dicom.array.shape == (images.shape[3], images.shape[2], 2, 20)
    assert [input_format(p) for p in (tmp_path / "cine.nii.gz", tmp_path / "cine.npz", folder)] == [
        "nifti", "npz", "dicom"]
    assert input_format(next(folder.iterdir())) == "dicom"  # a single file recognised by its preamble


def test_emidec_labels_as_uint8(emidec_dir):
    vol = read_image(emidec_dir / "samplePositive" / "labels.nii.gz", "labels")
    assert vol.array.dtype == np.uint8 and vol.array.max() == 4 and vol.meta["kind"] == "labels"


def test_lge_from_dicom_and_single_slice_nifti(tmp_path, write_series):
    folder, _ = write_series(np.zeros((3, 1, 6, 5), np.uint16) + 3, phase_step_ms=None)
    assert read_image(folder, "lge").array.shape == (5, 6, 3)
    write_nifti(tmp_path / "one.nii.gz", np.ones((6, 5), np.float32), spacing=(1, 1, 1))
    assert read_image(tmp_path / "one.nii.gz", "lge").array.shape == (6, 5, 1)


@pytest.mark.parametrize(("name", "array", "kind", "message"), [
    ("c.nii.gz", np.zeros((4, 4, 2), np.float32), "cine", "expected 4 dimensions"),
    ("c.nii.gz", np.zeros((4, 4, 2, 1), np.float32), "cine", "at least 2 are needed"),
    ("l.nii.gz", np.full((4, 4, 2), 1.5, np.float32), "labels", "non-negative integers"),
    ("l.nii.gz", np.full((4, 4, 2), -1.0, np.float32), "labels", "non-negative integers"),
    ("g.nii.gz", np.zeros((4, 4, 2, 3), np.float32), "lge", "expected 2 or 3 dimensions"),
])
def test_bad_content(tmp_path, name, array, kind, message):
    write_nifti(tmp_path / name, array, spacing=(1, 1, 1))
    with pytest.raises(InputError, match=message) as err:
        read_image(tmp_path / name, kind)
    assert name in str(err.value)


def test_bad_paths(tmp_path, write_series):
    with pytest.raises(InputError, match="not found"):
        read_image(tmp_path / "nothing.nii.gz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(InputError, match="unrecognised input format"):
        read_image(tmp_path / "notes.txt")
    folder, _ = write_series()
    with pytest.raises(InputError, match="DICOM SEG is not supported"):
        read_image(folder, "labels")
    with pytest.raises(ValueError):
        read_image(folder, "segmentation")
