"""Crop around the LV and back: exact round trips, padding at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pscgan.preprocessing.crop import crop_array, crop_box, uncrop_array


def test_box_is_centred_on_the_rounded_centre():
    box = crop_box((40.4, 50.6), (100, 90), 64)
    assert (box.row0, box.col0, box.size) == (40 - 32, 51 - 32, 64)
    box = crop_box((10.0, 10.0), (30, 30), 5)
    assert (box.row0, box.col0) == (8, 8)  # odd size: the centre pixel is the middle one


def test_box_near_the_border_is_shifted_inside_not_padded():
    img = np.arange(1.0, 101.0).reshape(10, 10)
    box = crop_box((0.0, 9.0), img.shape, 6)
    assert (box.row0, box.col0) == (0, 4)
    np.testing.assert_array_equal(crop_array(img, box, fill=-1.0), img[:6, 4:])
    # an image that is already crop-sized is taken whole, wherever the LV was located
    assert (crop_box((3.0, 60.0), (64, 64), 64).row0, crop_box((3.0, 60.0), (64, 64), 64).col0) == (0, 0)


def test_smaller_image_is_centred_and_padded_with_the_fill_value():
    img = np.arange(1.0, 17.0).reshape(4, 4)
    box = crop_box((0.0, 3.0), img.shape, 6)
    assert (box.row0, box.col0) == (-1, -1)
    out = crop_array(img, box, fill=0.0)
    np.testing.assert_array_equal(out[1:5, 1:5], img)
    assert out[0].sum() == 0 and out[:, 5].sum() == 0


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(5, 40), cols=st.integers(5, 40), size=st.integers(1, 24),
       cr=st.floats(-10, 50), cc=st.floats(-10, 50))
def test_round_trip_inside_the_box_is_exact(rows, cols, size, cr, cc):
    rng = np.random.default_rng(rows * 100 + cols)
    labels = rng.integers(0, 4, (rows, cols)).astype(np.uint8)
    image = rng.random((3, rows, cols)).astype(np.float32)
    box = crop_box((cr, cc), (rows, cols), size)
    inside = uncrop_array(np.ones((size, size), bool), box, False)
    back_labels = uncrop_array(crop_array(labels, box, 0), box, 0)
    back_image = uncrop_array(crop_array(image, box, -5.0), box, -5.0)
    np.testing.assert_array_equal(back_labels[inside], labels[inside])
    np.testing.assert_array_equal(back_image[:, inside], image[:, inside])
    assert np.all(back_labels[~inside] == 0) and np.all(back_image[:, ~inside] == -5.0)
    # brute force: every crop pixel is the image pixel at (row0 + i, col0 + j), or the fill outside
    crop = crop_array(labels, box, 9)
    for i in range(size):
        for j in range(size):
            r, c = box.row0 + i, box.col0 + j
            assert crop[i, j] == (labels[r, c] if 0 <= r < rows and 0 <= c < cols else 9)


def test_shape_checks():
    box = crop_box((5.0, 5.0), (10, 10), 4)
    with pytest.raises(ValueError, match="does not match"):
        crop_array(np.zeros((11, 10)), box, 0)
    with pytest.raises(ValueError, match="not a 4x4 crop"):
        uncrop_array(np.zeros((5, 5)), box, 0)
