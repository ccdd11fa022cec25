from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pscgan.geometry.aha import segment_map, segment_of_angle
from pscgan.geometry.polar import lv_center
from pscgan.geometry.rays import cast_rays
from pscgan.geometry.thickness import (
    segment_thickening,
    segment_wall_thickness,
    segment_wall_thickness_from_labels,
    wall_rays,
)


@pytest.mark.parametrize(("thickness_mm", "spacing"), [
    (9.0, (1.5, 1.5)), (6.0, (1.5, 1.5)), (4.2, (1.4, 1.4)), (7.3, (1.6, 1.3)), (10.0, (1.0, 1.0))])
@pytest.mark.parametrize("level", ["mid", "apical"])
def test_ring_thickness_within_half_a_pixel(make_ring, thickness_mm, spacing, level):
    labels = make_ring(center=(31.3, 32.6), thickness_mm=thickness_mm, spacing=spacing)
    per_seg = segment_wall_thickness(labels >= 2, level, 121.0, spacing=spacing)
    half_pixel = 0.5 * max(spacing)
    assert all(abs(t - thickness_mm) < half_pixel for t in per_seg.values()), per_seg
    prof = wall_rays(labels >= 2, spacing=spacing)
    assert prof.valid.all()
    assert abs(np.mean(prof.thickness_mm) - thickness_mm) < 0.25 * max(spacing)
    assert abs(np.mean(prof.r_endo_mm) - 18.0) < half_pixel


def _eccentric_ring(shift_px: float = 3.0):
    """Cavity circle centred at (32, 32), epicardial circle shifted right by ``shift_px``: the lateral
    wall (0 deg) is thick, the septum (180 deg) thin."""
    rows, cols = np.indices((64, 64), dtype=float)
    labels = np.zeros((64, 64), np.uint8)
    labels[np.hypot(rows - 32, cols - 32 - shift_px) < 18] = 2
    labels[np.hypot(rows - 32, cols - 32) < 12] = 1
    return labels


def _analytic_radial_thickness(theta_deg: np.ndarray, shift_px: float = 3.0) -> np.ndarray:
    """Distance along the ray from the cavity centre to the epicardial circle, minus the cavity radius."""
    u_dot_d = np.cos(np.radians(theta_deg)) * shift_px
    return u_dot_d + np.sqrt(u_dot_d**2 - shift_px**2 + 18.0**2) - 12.0


def test_eccentric_wall_matches_analytic_rays():
    labels = _eccentric_ring()
    prof = wall_rays(labels >= 2, center=lv_center(labels), n_rays=360)
    expected = _analytic_radial_thickness(prof.angles_deg)
    assert np.max(np.abs(prof.thickness_mm - expected)) < 1.0      # single rays: within a pixel
    per_seg = segment_wall_thickness_from_labels(labels, "mid", 120.0)
    seg_of_ray = segment_of_angle(prof.angles_deg, "mid", 120.0)
    for seg, t in per_seg.items():
        assert t == pytest.approx(expected[seg_of_ray == seg].mean(), abs=0.5)
    assert per_seg[11] == pytest.approx(per_seg[12], abs=0.1)  # mirror images about 0 deg
    assert min(per_seg[11], per_seg[12]) > max(per_seg[8], per_seg[9])  # lateral thick, septum thin


def test_ray_thickness_agrees_with_distance_transform_thickness():
    """Independent method: at each wall pixel, distance to the nearest cavity pixel plus distance to the
    nearest outside pixel, minus one pixel (both distances run from pixel centre to pixel centre),
    averaged over the segment's pixels."""
    labels = _eccentric_ring()
    lv = labels > 0
    d_cavity = ndimage.distance_transform_edt(labels != 1)
    d_outside = ndimage.distance_transform_edt(lv)
    local = d_cavity + d_outside - 1.0
    seg = segment_map(labels, "mid", 120.0)
    ray_based = segment_wall_thickness_from_labels(labels, "mid", 120.0)
    for s, t in ray_based.items():
        assert t == pytest.approx(local[seg == s].mean(), abs=0.5), s


def test_gap_in_a_predicted_wall_is_bridged(make_ring):
    labels = make_ring(center=(32.0, 32.0), thickness_mm=9.0, spacing=(1.5, 1.5))
    holed = labels.copy()
    holed[32, 32 + 15] = 0  # one background pixel in the middle of the lateral wall
    ray = cast_rays(holed >= 2, (32.0, 32.0), spacing=(1.5, 1.5), n_rays=720)
    lateral = (ray.angles_deg < 1.0) | (ray.angles_deg > 359.0)
    assert np.all(np.abs(ray.thickness_mm[lateral] - 9.0) < 0.75)


def test_missing_wall_gives_nan_segments():
    labels = np.zeros((40, 40), np.uint8)
    rows, cols = np.indices(labels.shape)
    r = np.hypot(rows - 20, cols - 20)
    labels[r < 8] = 1
    labels[(r >= 8) & (r < 12) & (cols < 20)] = 2  # only the left half of a wall
    t = segment_wall_thickness(labels >= 2, "mid", 120.0, center=(20.0, 20.0))
    assert np.isnan(t[11]) and np.isnan(t[12])
    assert t[9] == pytest.approx(4.0, abs=0.5)


def test_thickening():
    out = segment_thickening({7: 7.0, 8: 6.0, 9: 5.0, 10: float("nan")}, {7: 10.5, 8: 6.0, 9: 4.0})
    assert out[7] == pytest.approx(0.5) and out[8] == 0.0 and out[9] == pytest.approx(-0.2)
    assert np.isnan(out[10])


def test_systolic_ring_thickening_from_area_conservation(make_ring):
    """Spec check: R_endo 25 -> 16.5 mm with T 7 mm at ED and sector area growth gamma = 0.15 gives
    T_ES 10.5 mm (51 % thickening)."""
    spacing = (0.5, 0.5)
    ed = make_ring(shape=(160, 160), center=(80.0, 80.0), r_endo_mm=25.0, thickness_mm=7.0, spacing=spacing)
    r_epi_es = np.sqrt(16.5**2 + 1.15 * (32.0**2 - 25.0**2))
    es = make_ring(shape=(160, 160), center=(80.0, 80.0), r_endo_mm=16.5, thickness_mm=r_epi_es - 16.5,
                   spacing=spacing)
    t_ed = segment_wall_thickness(ed >= 2, "mid", 120.0, spacing=spacing)
    t_es = segment_wall_thickness(es >= 2, "mid", 120.0, spacing=spacing)
    assert all(v == pytest.approx(0.51, abs=0.04) for v in segment_thickening(t_ed, t_es).values())
