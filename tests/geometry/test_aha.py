from __future__ import annotations

import numpy as np
import pytest

from pscgan.geometry.aha import (
    DEFAULT_TERRITORIES,
    SEGMENT_NAMES,
    Territory,
    segment_center_angle,
    segment_map,
    segment_of_angle,
    segment_start_angle,
    segments_of_level,
    segments_of_territory,
    territory_of_segment,
)


@pytest.mark.parametrize(("theta", "level", "expected"), [
    # theta_a = 120: anteroseptal [120, 180), inferoseptal [180, 240), inferior [240, 300),
    # inferolateral [300, 360), anterolateral [0, 60), anterior [60, 120)
    (120.0, "basal", 2), (179.9, "basal", 2), (180.0, "basal", 3), (270.0, "basal", 4), (330.0, "basal", 5),
    (0.0, "basal", 6), (30.0, "basal", 6), (90.0, "basal", 1), (119.99, "basal", 1),
    (150.0, "mid", 8), (210.0, "mid", 9), (270.0, "mid", 10), (359.0, "mid", 11), (45.0, "mid", 12),
    (61.0, "mid", 7), (-30.0, "mid", 11), (390.0, "mid", 12),
    # apical: septal [135, 225), inferior [225, 315), lateral [315, 45), anterior [45, 135)
    (135.0, "apical", 14), (224.0, "apical", 14), (225.0, "apical", 15), (314.0, "apical", 15),
    (315.0, "apical", 16), (0.0, "apical", 16), (44.9, "apical", 16), (45.0, "apical", 13),
    (134.0, "apical", 13),
])
def test_known_angles_theta_a_120(theta, level, expected):
    assert segment_of_angle(theta, level, 120.0) == expected


@pytest.mark.parametrize(("theta_a", "theta", "level", "expected"), [
    # theta_a = 30: the anterior sector [330, 30) straddles 0 degrees
    (30.0, 350.0, "basal", 1), (30.0, 10.0, "basal", 1), (30.0, 29.0, "mid", 7), (30.0, 30.0, "mid", 8),
    (30.0, 320.0, "mid", 12),
    # theta_a = 350: the anteroseptal sector [350, 50) straddles 0 degrees
    (350.0, 355.0, "mid", 8), (350.0, 5.0, "mid", 8), (350.0, 49.0, "mid", 8), (350.0, 50.0, "mid", 9),
    (350.0, 340.0, "mid", 7),
    # theta_a = 300: apical septal [315, 45) straddles 0 degrees
    (300.0, 320.0, "apical", 14), (300.0, 40.0, "apical", 14), (300.0, 46.0, "apical", 15),
    (300.0, 314.0, "apical", 13),
])
def test_wrap_around(theta_a, theta, level, expected):
    assert segment_of_angle(theta, level, theta_a) == expected


def _reference_segment(theta: float, level: str, theta_a: float) -> int:
    """Brute force: the segment whose sector [start, start + width) contains theta."""
    hits = [s for s in segments_of_level(level)
            if np.mod(theta - segment_start_angle(s, theta_a), 360.0) < (90.0 if s >= 13 else 60.0)]
    assert len(hits) == 1
    return hits[0]


@pytest.mark.parametrize("level", ["basal", "mid", "apical"])
def test_matches_brute_force_for_random_angles(level):
    rng = np.random.default_rng(0)
    for theta_a in rng.uniform(0, 360, 5):
        theta = rng.uniform(-720, 720, 200)
        fast = segment_of_angle(theta, level, theta_a)
        assert fast.shape == theta.shape
        assert [_reference_segment(t, level, theta_a) for t in theta] == fast.tolist()


def test_segment_order_is_counter_clockwise_from_rv_insertion():
    mid = [segment_of_angle(120.0 + 30.0 + 60.0 * k, "mid", 120.0) for k in range(6)]
    assert mid == [8, 9, 10, 11, 12, 7]
    apical = [segment_of_angle(180.0 + 90.0 * k, "apical", 120.0) for k in range(4)]
    assert apical == [14, 15, 16, 13]


def test_apical_septal_is_centred_on_theta_a_plus_60():
    for theta_a in (110.0, 125.0, 355.0):
        assert segment_center_angle(14, theta_a) == pytest.approx(np.mod(theta_a + 60.0, 360.0))
        for seg in range(1, 17):
            level = "basal" if seg <= 6 else "mid" if seg <= 12 else "apical"
            assert segment_of_angle(segment_center_angle(seg, theta_a), level, theta_a) == seg


@pytest.mark.parametrize("level", ["basal", "mid", "apical"])
def test_every_myocardial_pixel_gets_exactly_one_segment(make_ring, level):
    labels = make_ring(scar_depth_mm=4.0, scar_sector_deg=(100.0, 200.0))
    seg = segment_map(labels, level, theta_a_deg=117.0, spacing=(1.5, 1.5))
    myo = labels >= 2
    assert np.all(seg[~myo] == 0)
    assert set(np.unique(seg[myo])) == set(segments_of_level(level))
    # sectors of equal angle hold nearly equal shares of a ring
    counts = np.array([np.sum(seg == s) for s in segments_of_level(level)])
    assert counts.sum() == myo.sum()
    assert np.all(np.abs(counts / counts.mean() - 1.0) < 0.06)


def test_segment_map_follows_orientation(make_ring):
    labels = make_ring(center=(32.0, 32.0))
    seg = segment_map(labels, "mid", theta_a_deg=120.0)
    assert seg[32 - 15, 32] == 7   # straight up: anterior
    assert seg[32, 32 - 15] == 9   # left (towards the RV): inferoseptal
    assert seg[32 + 15, 32] == 10  # down: inferior
    assert seg[32, 32 + 15] == 12  # right, 0 deg: anterolateral [0, 60) starts here
    assert seg[32 + 3, 32 + 15] == 11  # just below horizontal: inferolateral [300, 360)


def test_territories():
    assert segments_of_territory("LAD") == (1, 2, 7, 8, 13, 14)
    assert segments_of_territory(Territory.RCA) == (3, 4, 9, 10, 15)
    assert segments_of_territory("LCx", level="mid") == (11, 12)
    assert territory_of_segment(16) is Territory.LCX
    assert set(DEFAULT_TERRITORIES) == set(SEGMENT_NAMES) == set(range(1, 17))
    wrap_lad = {**DEFAULT_TERRITORIES, 15: Territory.LAD, 16: Territory.LAD}
    assert segments_of_territory("LAD", level="apical", mapping=wrap_lad) == (13, 14, 15, 16)
    with pytest.raises(ValueError):
        territory_of_segment(17)


def test_bad_level_is_an_error():
    with pytest.raises(ValueError, match="unknown slice level"):
        segment_of_angle(0.0, "equatorial", 120.0)
