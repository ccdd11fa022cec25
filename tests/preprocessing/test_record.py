"""The slice record: JSON round trip and the inverse mapping to the original geometry."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.io.nifti import read_nifti
from pscgan.labels import from_emidec
from pscgan.preprocessing.crop import crop_array, crop_box
from pscgan.preprocessing.localisation import centre_from_labels
from pscgan.preprocessing.record import SliceRecord, TemporalRecord, to_original_geometry, to_original_volume
from pscgan.preprocessing.spatial import resample_inplane


def _record(shape_rc, spacing_rc, labels_display, size, target=None, index=0, n_slices=1):
    resampled, inplane = resample_inplane(labels_display, spacing_rc, target, order=0)
    centre = centre_from_labels(resampled)
    box = crop_box(centre.centre_rc, resampled.shape, size)
    record = SliceRecord(subject_id="s", slice_index=index, n_slices=n_slices, original_shape_rc=shape_rc,
                         original_spacing_mm=(spacing_rc[1], spacing_rc[0], 10.0),
                         original_affine=np.eye(4).tolist(),
                         temporal=TemporalRecord(original_n_phases=25, n_phases=25, method="identity"),
                         inplane=inplane, localisation=centre, crop=box)
    return crop_array(resampled, box, 0), record


@pytest.mark.parametrize("case", ["samplePositive", "sampleNegative"])
def test_emidec_labels_crop_and_back_exactly(emidec_dir, case):
    vol = read_nifti(emidec_dir / case / "labels.nii.gz", dtype=None)
    labels = from_emidec(vol.array)
    spacing_rc = (vol.spacing[1], vol.spacing[0])
    for k in range(labels.shape[2]):
        display = labels[:, :, k].T
        if not display.any():
            continue
        crop, record = _record(display.shape, spacing_rc, display, 64)
        back = to_original_geometry(crop, record, "labels")
        assert back.shape == display.shape and back.dtype == np.uint8
        np.testing.assert_array_equal(back, np.where(_inside(record), display, 0))
        assert np.array_equal(np.unique(back), np.unique(display))  # the whole heart fits in 64 x 64 here


def _inside(record):
    from pscgan.preprocessing.crop import uncrop_array

    return uncrop_array(np.ones((record.crop.size,) * 2, bool), record.crop, False)


def test_emidec_labels_through_resampling(emidec_dir):
    vol = read_nifti(emidec_dir / "samplePositive" / "labels.nii.gz", dtype=None)
    display = from_emidec(vol.array)[:, :, 3].T
    crop, record = _record(display.shape, (vol.spacing[1], vol.spacing[0]), display, 96, target=1.0)
    assert record.inplane.spacing_mm == pytest.approx((1.0, 1.0), rel=0.01)
    back = to_original_geometry(crop, record, "labels")
    for tissue in (1, 2, 3):
        a, b = back == tissue, display == tissue
        dice = 2 * np.sum(a & b) / (a.sum() + b.sum())
        assert dice > 0.9, (tissue, dice)


def test_images_and_leading_axes_map_back():
    rng = np.random.default_rng(0)
    display = np.zeros((40, 50), np.uint8)
    display[10:20, 30:45] = 1
    crop, record = _record(display.shape, (1.5, 1.5), display, 16)
    frames = rng.random((25, 16, 16)).astype(np.float32)
    back = to_original_geometry(frames, record, "image", fill=-1.0)
    assert back.shape == (25, 40, 50) and back.dtype == np.float32
    np.testing.assert_array_equal(back[:, _inside(record)], frames.reshape(25, -1))
    assert np.all(back[:, ~_inside(record)] == -1.0)


def test_volume_in_original_axes():
    # (x, y, slice) = (50, 40, 2); slice k's display image is volume[:, :, k].T
    volume = np.zeros((50, 40, 2), np.uint8)
    volume[30:45, 10:20, 0] = 2
    volume[5:15, 25:35, 1] = 1
    crops, records = zip(*(_record((40, 50), (1.5, 1.5), volume[:, :, k].T, 24, index=k, n_slices=2)
                           for k in range(2)))
    back = to_original_volume(list(crops), list(records), "labels")
    np.testing.assert_array_equal(back, volume)


def test_json_round_trip():
    display = np.zeros((30, 30), np.uint8)
    display[10:20, 10:20] = 1
    _, record = _record(display.shape, (1.25, 1.5), display, 16, target=1.0)
    text = record.model_dump_json()
    assert SliceRecord.model_validate_json(text) == record
