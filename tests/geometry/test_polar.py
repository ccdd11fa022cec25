from __future__ import annotations

import numpy as np
import pytest

from pscgan.geometry.polar import (
    angle_deg,
    display_spacing,
    lv_center,
    lv_center_from_myocardium,
    polar_coordinates,
    ray_points,
)


def test_centre_of_a_ring_is_its_centre(make_ring):
    labels = make_ring(center=(30.3, 33.7))
    cy, cx = lv_center(labels)
    assert cy == pytest.approx(30.3, abs=0.05) and cx == pytest.approx(33.7, abs=0.05)
    my, mx = lv_center_from_myocardium(labels >= 2)
    assert my == pytest.approx(30.3, abs=0.05) and mx == pytest.approx(33.7, abs=0.05)


def test_centre_ignores_a_stray_blood_pool_island(make_ring):
    labels = make_ring(center=(32.0, 32.0))
    labels[2:4, 2:4] = 1  # a false-positive island far from the LV
    assert lv_center(labels) == pytest.approx((32.0, 32.0), abs=0.05)


def test_centre_falls_back_to_filled_lv_without_cavity():
    labels = np.zeros((20, 20), np.uint8)
    labels[5:12, 8:15] = 2  # apical slice at end-systole: no blood pool left
    assert lv_center(labels) == pytest.approx((8.0, 11.0))


def test_centre_of_empty_map_is_an_error():
    with pytest.raises(ValueError, match="no LV"):
        lv_center(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        lv_center_from_myocardium(np.zeros((8, 8), bool))


@pytest.mark.parametrize(("drow", "dcol", "expected"), [
    (0, 3, 0.0), (-3, 0, 90.0), (0, -3, 180.0), (3, 0, 270.0), (-2, 2, 45.0), (2, 2, 315.0)])
def test_display_convention_angles(drow, dcol, expected):
    assert float(angle_deg(10 + drow, 10 + dcol, (10.0, 10.0))) == pytest.approx(expected)


def test_angles_are_physical_with_anisotropic_spacing():
    # one row up is 2 mm, one column right is 1 mm: 63.4 degrees, not 45
    expected = np.degrees(np.arctan2(2, 1))
    assert float(angle_deg(9, 11, (10.0, 10.0), spacing=(2.0, 1.0))) == pytest.approx(expected)


def test_display_spacing_swaps_layout_order():
    assert display_spacing((1.25, 1.5)) == (1.5, 1.25)


def test_ray_points_invert_polar_coordinates():
    spacing, center = (1.4, 1.7), (20.2, 18.9)
    theta, radius = polar_coordinates((30, 30), center, spacing)
    rows, cols = ray_points(center, theta.ravel(), radius.ravel(), spacing)
    # walking radius[p] mm along the ray at theta[p] from the centre lands on pixel p (the diagonal)
    idx = np.indices((30, 30)).reshape(2, -1)
    assert np.allclose(np.diagonal(rows), idx[0]) and np.allclose(np.diagonal(cols), idx[1])
