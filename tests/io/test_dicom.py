"""DICOM series reader: synthetic series written with pydicom, read back; every refusal."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.dicom import read_dicom_series


def _expected_ras(iop, position: np.ndarray, row: int, col: int,
                  spacing_rc: tuple[float, float]) -> np.ndarray:
    """World (RAS) position of pixel (row, col) by the DICOM definition."""
    row_dir, col_dir = np.asarray(iop[:3]), np.asarray(iop[3:])
    lps = position + col * spacing_rc[1] * row_dir + row * spacing_rc[0] * col_dir
    return lps * np.array([-1.0, -1.0, 1.0])


def test_cine_round_trip_geometry_and_timing(write_series, dicom_kit):
    folder, images = write_series(slope=2.0, intercept=-100.0)
    vol = read_dicom_series(folder, kind="cine")
    n_slices, n_phases, rows, cols = images.shape
    assert vol.array.shape == (cols, rows, n_slices, n_phases) and vol.array.dtype == np.float32
    for k in range(n_slices):
        for t in range(n_phases):  # display image (volume[:, :, k].T) is the stored image, rescaled
            np.testing.assert_array_equal(vol.array[:, :, k, t].T, images[k, t] * 2.0 - 100.0)
    assert vol.spacing == pytest.approx((1.25, 1.5, 10.0))
    assert vol.meta["trigger_times_ms"] == pytest.approx([40.0 * t for t in range(n_phases)])
    assert vol.meta["rr_interval_ms"] == 1000.0
    assert vol.meta["series_instance_uid"] == "1.2.3.4"
    uids = vol.meta["sop_instance_uids"]
    assert len(uids) == n_slices and len(uids[0]) == n_phases
    positions = dicom_kit.slice_positions(n_slices)
    for i, j, k in [(0, 0, 0), (cols - 1, 0, 1), (3, rows - 1, 1), (cols - 1, rows - 1, 0)]:
        world = vol.affine @ np.array([i, j, k, 1.0])
        expected = _expected_ras(dicom_kit.oblique_iop, positions[k], j, i, (1.5, 1.25))
        np.testing.assert_allclose(world[:3], expected, atol=1e-3)


def test_slices_sorted_along_the_normal_not_by_file_order(write_series, dicom_kit):
    def reverse_positions(ds, k, t):
        ds.ImagePositionPatient = [f"{v:.4f}" for v in dicom_kit.slice_positions(3)[2 - k]]
        return ds

    folder, images = write_series(np.arange(3 * 4 * 6 * 5, dtype=np.uint16).reshape(3, 4, 6, 5),
                                  edit=reverse_positions)
    vol = read_dicom_series(folder, kind="cine")
    np.testing.assert_array_equal(vol.array[:, :, 0, 0].T, images[2, 0])  # lowest position first
    assert np.all(np.diff(vol.meta["slice_positions_mm"]) > 0)


def test_instance_number_orders_phases_without_trigger_time(write_series):
    folder, images = write_series(phase_step_ms=None)
    vol = read_dicom_series(folder)
    assert vol.meta["trigger_times_ms"] is None and vol.meta["phase_order"] == "InstanceNumber"
    np.testing.assert_array_equal(vol.array[:, :, 1, 7].T, images[1, 7])


def test_patient_identifiers_are_not_kept(write_series, dicom_kit):
    folder, _ = write_series()
    vol = read_dicom_series(folder)
    text = json.dumps(vol.meta)
    for identifier in (dicom_kit.patient_name.split("^")[0], "PID-4711", "19700101"):
        assert identifier not in text
    assert not any(key.lower().startswith("patient") for key in vol.meta)


def test_lge_series_is_three_dimensional(write_series):
    stack = np.arange(3 * 1 * 8 * 6, dtype=np.uint16).reshape(3, 1, 8, 6)
    folder, images = write_series(stack, phase_step_ms=None)
    vol = read_dicom_series(folder, kind="image")
    assert vol.array.shape == (6, 8, 3)
    np.testing.assert_array_equal(vol.array[:, :, 2].T, images[2, 0])


def test_lge_with_two_images_at_one_position_is_refused(write_series):
    folder, _ = write_series(np.zeros((2, 2, 4, 4), np.uint16))
    with pytest.raises(InputError, match="2 images at slice 0"):
        read_dicom_series(folder, kind="image")


def test_empty_and_non_dicom_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no files") as err:
        read_dicom_series(tmp_path / "empty")
    assert "empty" in str(err.value)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("not an image")
    with pytest.raises(InputError, match="no DICOM image files"):
        read_dicom_series(tmp_path / "notes")
    with pytest.raises(InputError, match="not found"):
        read_dicom_series(tmp_path / "missing")


def test_two_series_in_one_folder(write_series):
    write_series(folder="mixed", series_uid="1.2.3.4")
    folder, _ = write_series(folder="mixed", series_uid="1.2.3.5", seed=1)
    with pytest.raises(InputError, match="2 DICOM series"):
        read_dicom_series(folder)
    assert read_dicom_series(folder, series_uid="1.2.3.5").meta["series_instance_uid"] == "1.2.3.5"


def test_mixed_matrix_sizes(write_series, dicom_kit):
    folder, _ = write_series()
    odd = dicom_kit.make_dataset(np.zeros((14, 10), np.uint16), position=dicom_kit.slice_positions(1)[0],
                                 trigger_ms=5.0)
    odd.save_as(folder / "odd.dcm", enforce_file_format=True)
    with pytest.raises(InputError, match="mixed image sizes"):
        read_dicom_series(folder)


def test_mixed_orientations(write_series):
    def tilt(ds, k, t):
        if (k, t) == (1, 3):
            ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
        return ds

    folder, _ = write_series(edit=tilt)
    with pytest.raises(InputError, match="mixed image orientations"):
        read_dicom_series(folder)


def test_duplicate_phase(write_series):
    def same_time(ds, k, t):
        if (k, t) == (0, 5):
            ds.TriggerTime = "160"  # phase 4's time
        return ds

    folder, _ = write_series(edit=same_time)
    with pytest.raises(InputError, match="duplicate phase at slice 0"):
        read_dicom_series(folder)


def test_unequal_phase_counts(write_series):
    folder, _ = write_series(edit=lambda ds, k, t: None if (k, t) == (1, 19) else ds)
    with pytest.raises(InputError, match=r"unequal number of phases per slice position: \[20, 19\]"):
        read_dicom_series(folder)


def test_single_phase_cine(write_series):
    folder, _ = write_series(np.zeros((3, 1, 4, 4), np.uint16))
    with pytest.raises(InputError, match="single phase"):
        read_dicom_series(folder, kind="cine")


def test_missing_required_tag_names_the_file(write_series):
    def drop(ds, k, t):
        if (k, t) == (1, 2):
            del ds.ImagePositionPatient
            ds.SeriesDescription = "victim"
        return ds

    folder, _ = write_series(edit=drop)
    with pytest.raises(InputError, match="missing required DICOM tags: ImagePositionPatient") as err:
        read_dicom_series(folder)
    assert str(err.value).split(":")[0].endswith(".dcm")


def test_compressed_without_decoder(write_series):
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLosslessSV1

    def compress(ds, k, t):
        ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
        ds.PixelData = encapsulate([b"\xff\xd8 not really a jpeg \xff\xd9"])
        return ds

    folder, _ = write_series(np.zeros((1, 2, 4, 4), np.uint16), edit=compress)
    with pytest.raises(InputError, match="decoder|could not be decoded") as err:
        read_dicom_series(folder)
    assert ".dcm" in str(err.value)


def test_truncated_file(write_series):
    folder, _ = write_series(np.full((1, 2, 32, 32), 7, np.uint16))
    victim = sorted(folder.iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:-1000])
    with pytest.raises(InputError) as err:
        read_dicom_series(folder)
    assert victim.name in str(err.value)


def test_enhanced_multiframe_refused(write_series):
    def multiframe(ds, k, t):
        ds.NumberOfFrames = 2
        return ds

    folder, _ = write_series(np.zeros((1, 2, 4, 4), np.uint16), edit=multiframe)
    with pytest.raises(InputError, match="multi-frame"):
        read_dicom_series(folder)


def test_declared_size_cap(write_series, monkeypatch):
    import pscgan.io.dicom as dicom_module

    folder, _ = write_series(np.zeros((1, 2, 4, 4), np.uint16))
    calls = []
    original = dicom_module.check_declared_size

    def spy(path, shape, itemsize=4):
        calls.append(shape)
        original(path, shape, itemsize)

    monkeypatch.setattr(dicom_module, "check_declared_size", spy)
    monkeypatch.setattr("pscgan.io.image.MAX_ARRAY_BYTES", 100)
    with pytest.raises(InputError, match="GiB limit"):
        read_dicom_series(folder)
    assert calls == [(4, 4, 1, 2)]
