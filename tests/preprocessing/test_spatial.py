"""In-plane resampling keeps the physical field of view; LGE/labels onto the cine grid."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.errors import InputError
from pscgan.io.image import ImageVolume
from pscgan.preprocessing.spatial import on_reference_grid, resample_inplane, resize_2d


def _disc(shape, spacing_rc, radius_mm, centre_mm):
    rows, cols = np.indices(shape, dtype=float)
    dy = (rows + 0.5) * spacing_rc[0] - centre_mm[0]
    dx = (cols + 0.5) * spacing_rc[1] - centre_mm[1]
    return np.hypot(dy, dx) < radius_mm


@pytest.mark.parametrize(("spacing", "target"), [((1.40625, 1.40625), 1.0), ((1.25, 1.6), 1.5),
                                                 ((0.8, 0.8), 2.0)])
def test_physical_size_and_area_preserved(spacing, target):
    shape = (90, 70)
    labels = _disc(shape, spacing, 25.0, (60.0, 50.0)).astype(np.uint8) * 2
    out, rec = resample_inplane(labels, spacing, target, order=0)
    assert out.shape == rec.shape and out.dtype == np.uint8 and set(np.unique(out)) <= {0, 2}
    fov = np.asarray(shape) * spacing
    np.testing.assert_allclose(np.asarray(rec.shape) * rec.spacing_mm, fov)  # the field of view is unchanged
    np.testing.assert_allclose(rec.spacing_mm, target, rtol=0.5 / min(rec.shape))  # rounding of the matrix
    area_before = labels.astype(bool).sum() * np.prod(spacing)
    area_after = out.astype(bool).sum() * np.prod(rec.spacing_mm)
    assert area_after == pytest.approx(area_before, rel=0.04)
    # images: the centre of mass of a smooth blob stays at the same physical place
    from scipy.ndimage import center_of_mass, gaussian_filter

    img = gaussian_filter(labels.astype(np.float32), 2.0)
    img_out, _ = resample_inplane(img, spacing, target, order=1)
    before = (np.asarray(center_of_mass(img)) + 0.5) * spacing
    after = (np.asarray(center_of_mass(img_out)) + 0.5) * rec.spacing_mm
    np.testing.assert_allclose(after, before, atol=0.1)


def test_none_keeps_the_grid():
    img = np.ones((5, 4))
    out, rec = resample_inplane(img, (1.0, 1.0), None)
    assert out is img and rec is None


def test_resize_leading_axes_and_round_trip_of_labels():
    labels = np.zeros((3, 20, 20), np.uint8)
    labels[:, 5:12, 6:15] = 3
    up = resize_2d(labels, (40, 40), order=0)
    assert up.shape == (3, 40, 40)
    np.testing.assert_array_equal(resize_2d(up, (20, 20), order=0), labels)  # exact for integer factors


def _volume(array, spacing, origin=(0.0, 0.0, 0.0), source="v.nii.gz"):
    affine = np.diag([*spacing, 1.0])
    affine[:3, 3] = origin
    return ImageVolume(array, spacing=spacing, affine=affine, source=source)


def test_same_grid_is_returned_as_is():
    cine = _volume(np.zeros((8, 8, 2, 3)), (1.5, 1.5, 8.0))
    lge = _volume(np.ones((8, 8, 2)), (1.5, 1.5, 8.0))
    out, rec = on_reference_grid(lge, cine, order=1)
    assert out is lge.array and rec is None


def test_coarser_lge_mapped_through_the_affines():
    # The cine has 1 mm pixels, the LGE 2 mm pixels over the same field of view (pixel edges aligned).
    rows, cols = np.indices((40, 40), dtype=float)
    fine = np.stack([np.sin(rows / 7) + np.cos(cols / 5)] * 2, axis=-1)
    coarse = resize_2d(np.moveaxis(fine, -1, 0), (20, 20), order=1)
    cine = _volume(np.zeros((40, 40, 2, 3)), (1.0, 1.0, 8.0))
    # the first 2 mm pixel's centre lies between the first two 1 mm pixels
    lge = _volume(np.moveaxis(coarse, 0, -1), (2.0, 2.0, 8.0), origin=(0.5, 0.5, 0.0))
    out, rec = on_reference_grid(lge, cine, order=1)
    assert out.shape == (40, 40, 2) and rec is not None and rec.source_shape == (20, 20, 2)
    np.testing.assert_allclose(out[2:-2, 2:-2], fine[2:-2, 2:-2], atol=0.05)


def test_untrustworthy_affine_and_slice_mismatch():
    cine = _volume(np.zeros((8, 8, 2, 3)), (1.5, 1.5, 8.0), source="cine.nii.gz")
    lge = ImageVolume(np.ones((10, 10, 2)), spacing=(1.2, 1.2, 8.0), affine=np.eye(4), source="lge.nii.gz")
    with pytest.raises(InputError, match="lge.nii.gz.*does not match its voxel size"):
        on_reference_grid(lge, cine, order=1)
    with pytest.raises(InputError, match="has 3 slices but the cine has 2"):
        on_reference_grid(_volume(np.ones((8, 8, 3)), (1.5, 1.5, 8.0)), cine, order=1)
