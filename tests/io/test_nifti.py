"""NIfTI reader on the shipped EMIDEC cases and on damaged files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.nifti import read_nifti, write_nifti


@pytest.mark.parametrize(("case", "shape", "spacing", "values"), [
    ("samplePositive", (248, 258, 7), (1.40625, 1.40625, 13.0), [0, 1, 2, 3, 4]),
    ("sampleNegative", (148, 246, 9), (1.4583333, 1.4583333, 10.0), [0, 1, 2]),
])
def test_emidec_samples(emidec_dir, case, shape, spacing, values):
    lge = read_nifti(emidec_dir / case / "lge.nii.gz", ndim=3)
    labels = read_nifti(emidec_dir / case / "labels.nii.gz", ndim=3, dtype=None)
    assert lge.array.shape == shape and labels.array.shape == shape and lge.array.dtype == np.float32
    assert lge.spacing == pytest.approx(spacing, rel=1e-6)  # from the zooms ...
    np.testing.assert_allclose(np.abs(np.diag(lge.affine)[:3]), 1.0)  # ... the affine only holds unit steps
    assert sorted(np.unique(labels.array).astype(int).tolist()) == values
    assert lge.array.max() > 1000  # raw scanner intensities, not rescaled


def test_positive_case_scar_voxels(emidec_dir):
    labels = read_nifti(emidec_dir / "samplePositive" / "labels.nii.gz", dtype=None).array
    assert int(np.sum(labels == 3)) == 759 and int(np.sum(labels == 4)) == 29  # the sample README's counts


def test_round_trip_with_time_step(tmp_path):
    data = np.random.default_rng(0).random((6, 5, 2, 25)).astype(np.float32)
    write_nifti(tmp_path / "c.nii.gz", data, spacing=(1.5, 1.4, 8.0), time_step_ms=40.0)
    vol = read_nifti(tmp_path / "c.nii.gz", ndim=4)
    np.testing.assert_array_equal(vol.array, data)
    assert vol.spacing == pytest.approx((1.5, 1.4, 8.0)) and vol.meta["time_step_ms"] == pytest.approx(40.0)


def test_missing_wrong_dims_and_nan(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_nifti(tmp_path / "none.nii.gz")
    write_nifti(tmp_path / "three.nii.gz", np.zeros((4, 4, 2), np.float32), spacing=(1, 1, 1))
    with pytest.raises(InputError, match="expected 4 dimensions"):
        read_nifti(tmp_path / "three.nii.gz", ndim=4)
    bad = np.zeros((4, 4, 2), np.float32)
    bad[1, 1, 1] = np.inf
    write_nifti(tmp_path / "inf.nii.gz", bad, spacing=(1, 1, 1))
    with pytest.raises(InputError, match="1 NaN or infinite"):
        read_nifti(tmp_path / "inf.nii.gz")


def test_truncated_and_corrupt(tmp_path):
    write_nifti(tmp_path / "ok.nii.gz", np.random.default_rng(0).random((32, 32, 8)).astype(np.float32),
                spacing=(1, 1, 1))
    raw = (tmp_path / "ok.nii.gz").read_bytes()
    (tmp_path / "cut.nii.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match="cut.nii.gz"):
        read_nifti(tmp_path / "cut.nii.gz")
    (tmp_path / "junk.nii.gz").write_bytes(gzip.compress(b"no header here"))
    with pytest.raises(InputError, match="not a readable NIfTI"):
        read_nifti(tmp_path / "junk.nii.gz")


def test_huge_declared_size_refused_before_reading(tmp_path):
    import nibabel as nib

    header = nib.Nifti1Header()
    header.set_data_dtype(np.float32)
    header.set_data_shape((4096, 4096, 64, 30))
    path = tmp_path / "huge.nii"
    with open(path, "wb") as fh:
        header.write_to(fh)
        fh.write(b"\x00" * 4 + b"\x00" * 64)  # extension flag + a few bytes instead of 128 GiB
    with pytest.raises(InputError, match="GiB limit"):
        read_nifti(path)
