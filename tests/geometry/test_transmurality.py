from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pscgan.geometry.polar import display_spacing
from pscgan.geometry.transmurality import (
    scar_positive_segments,
    scar_rays,
    segment_scar,
    segment_transmurality,
)
from pscgan.io.nifti import read_nifti
from pscgan.labels import from_emidec

EMIDEC = Path(__file__).resolve().parents[1] / "data" / "emidec-samples"
SPACING = (1.5, 1.5)


@pytest.mark.parametrize("theta_a", [120.0, 355.0])
def test_half_depth_subendocardial_scar_over_two_segments(make_ring, theta_a):
    # R_endo 18 mm, wall 9 mm, scar 4.5 mm deep over [theta_a, theta_a + 120): mid segments 8 and 9
    labels = make_ring(r_endo_mm=18.0, thickness_mm=9.0, scar_depth_mm=4.5,
                       scar_sector_deg=(theta_a, theta_a + 120.0), spacing=SPACING)
    res = segment_scar(labels, "mid", theta_a, spacing=SPACING)
    for seg in (8, 9):
        assert res[seg].transmurality == pytest.approx(0.5, abs=0.08)
        # area share of the inner half of an annulus: (22.5^2 - 18^2) / (27^2 - 18^2) = 0.45
        assert res[seg].scar_fraction == pytest.approx(0.45, abs=0.05)
        assert res[seg].wall_thickness_mm == pytest.approx(9.0, abs=0.75)
    for seg in (7, 10, 11, 12):
        assert res[seg].transmurality < 0.03 and res[seg].scar_fraction < 0.03
    assert scar_positive_segments(res) == [8, 9]
    total_scar = sum(v.scar_area_mm2 for v in res.values())
    assert total_scar == pytest.approx(np.sum(labels == 3) * SPACING[0] * SPACING[1])


def test_transmural_and_partial_width_scar(make_ring):
    # full-depth scar over [180, 210): half of segment 9's width (theta_a = 120: segment 9 is [180, 240))
    labels = make_ring(thickness_mm=9.0, scar_depth_mm=9.0, scar_sector_deg=(180.0, 210.0), spacing=SPACING)
    trans = segment_transmurality(labels, "mid", 120.0, spacing=SPACING)
    assert trans[9] == pytest.approx(0.5, abs=0.06)  # mean over rays: half the rays at 1.0
    rays = scar_rays(labels, spacing=SPACING)
    inside = (rays.angles_deg > 185.0) & (rays.angles_deg < 205.0)
    assert np.all(rays.transmurality[inside] > 0.9)


@pytest.mark.parametrize("level", ["basal", "apical"])
def test_other_levels(make_ring, level):
    # theta_a = 120: apical septal 14 is [135, 225); basal inferior 4 is [240, 300)
    sector = (140.0, 220.0) if level == "apical" else (245.0, 295.0)
    labels = make_ring(scar_depth_mm=3.0, scar_sector_deg=sector, spacing=SPACING)
    res = segment_scar(labels, level, 120.0, spacing=SPACING)
    expected = 14 if level == "apical" else 4
    assert scar_positive_segments(res) == [expected]
    assert 0.2 < res[expected].transmurality < 0.4


def test_no_scar_gives_zero_everywhere(make_ring):
    res = segment_scar(make_ring(spacing=SPACING), "mid", 120.0, spacing=SPACING)
    assert all(v.transmurality == 0.0 and v.scar_fraction == 0.0 for v in res.values())
    assert scar_positive_segments(res) == []


def test_extent_and_depth_differ_only_for_non_wavefront_scar(make_ring):
    labels = make_ring(thickness_mm=9.0, scar_depth_mm=4.5, scar_sector_deg=(150.0, 210.0), spacing=SPACING)
    wavefront = scar_rays(labels, spacing=SPACING)
    inner = (wavefront.angles_deg > 155) & (wavefront.angles_deg < 205)  # away from the oblique sector edges
    assert np.all(wavefront.scar_mm[inner] > 3.0)
    assert np.allclose(wavefront.scar_mm[inner], wavefront.scar_depth_mm[inner], atol=0.1)
    midwall = labels.copy()
    midwall[midwall == 3] = 2
    rows, cols = np.indices(labels.shape)
    r = np.hypot((rows - 31.5) * 1.5, (cols - 31.5) * 1.5)
    midwall[(r >= 22.5) & (r < 25.5) & (cols < 31)] = 3  # a mid-wall band (not ischaemic, but possible)
    rays = scar_rays(midwall, spacing=SPACING)
    left = (rays.angles_deg > 150) & (rays.angles_deg < 210)
    assert np.all(rays.scar_depth_mm[left] > rays.scar_mm[left] + 3.0)


def test_threshold_is_stated_and_applied(make_ring):
    labels = make_ring(scar_depth_mm=2.0, scar_sector_deg=(130.0, 140.0), spacing=SPACING)
    res = segment_scar(labels, "mid", 120.0, spacing=SPACING)
    assert 0.0 < res[8].scar_fraction < 0.05
    assert scar_positive_segments(res) == []
    assert scar_positive_segments(res, threshold=0.0) == [8]


@pytest.mark.parametrize(("case", "has_scar"), [("samplePositive", True), ("sampleNegative", False)])
def test_real_emidec_labels(case, has_scar):
    vol = read_nifti(EMIDEC / case / "labels.nii.gz", dtype=None)
    labels = from_emidec(vol.array)
    spacing = display_spacing(vol.spacing)
    scar_segments: set[int] = set()
    for k in range(labels.shape[2]):
        sl = labels[:, :, k].T
        if np.sum(sl == 1) < 20 or np.sum(sl >= 2) < 20:
            continue
        res = segment_scar(sl, "mid", 120.0, spacing=spacing)
        for v in res.values():
            assert 0.0 <= v.transmurality <= 1.0 and 0.0 <= v.scar_fraction <= 1.0
            assert 3.0 < v.wall_thickness_mm < 25.0
        assert sum(v.myocardium_area_mm2 for v in res.values()) == pytest.approx(
            np.sum(sl >= 2) * spacing[0] * spacing[1])
        scar_segments.update(scar_positive_segments(res))
    assert bool(scar_segments) is has_scar
