"""Robust intensity scaling to [-1, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.preprocessing.intensity import ConstantImageError, scale_intensity, unscale_intensity


def test_percentiles_map_to_the_ends_and_outliers_are_clipped():
    rng = np.random.default_rng(0)
    img = rng.normal(100, 10, (25, 32, 32))
    img[0, 0, 0] = 1e6  # a hot pixel
    out, rec = scale_intensity(img, (0.5, 99.5))
    assert out.dtype == np.float32 and out.min() == -1.0 and out.max() == 1.0
    assert (rec.low, rec.high) == pytest.approx(tuple(np.percentile(img, (0.5, 99.5))))
    inside = (img > rec.low) & (img < rec.high)
    expected = 2 * (img[inside] - rec.low) / (rec.high - rec.low) - 1
    np.testing.assert_allclose(out[inside], expected, rtol=1e-5, atol=1e-6)
    assert np.mean(np.abs(out) < 1) > 0.98  # the hot pixel did not squash the range


def test_mask_leaves_out_padding():
    img = np.linspace(10.0, 20.0, 100).reshape(10, 10)
    padded = img.copy()
    padded[:, :3] = 0.0  # padding with a value below the image
    mask = np.ones_like(img, bool)
    mask[:, :3] = False
    _, rec = scale_intensity(padded, (0.0, 100.0), mask=mask)
    assert rec.low == pytest.approx(img[:, 3:].min())


def test_unscale_inverts_inside_the_range():
    img = np.random.default_rng(1).random((16, 16)) * 500
    out, rec = scale_intensity(img, (0.0, 100.0))
    np.testing.assert_allclose(unscale_intensity(out, rec), img, rtol=1e-4, atol=1e-3)


def test_constant_image_and_bad_percentiles():
    with pytest.raises(ConstantImageError, match="no contrast"):
        scale_intensity(np.full((8, 8), 3.0))
    with pytest.raises(ValueError, match="percentiles"):
        scale_intensity(np.zeros((8, 8)), (99.0, 1.0))
