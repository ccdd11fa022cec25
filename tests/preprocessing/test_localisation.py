"""LV localisation from labels and from cine motion."""

from __future__ import annotations

import numpy as np
import pytest

from pscgan.preprocessing.localisation import centre_from_labels, locate_lv_from_cine, motion_map


def _moving_disc(centre_rc, shape=(64, 64), n_phases=25):
    t = np.arange(n_phases)[:, None, None]
    rows, cols = np.indices(shape)
    radius = 8 - 3 * (1 - np.cos(2 * np.pi * t / n_phases)) / 2
    return (np.hypot(rows - centre_rc[0], cols - centre_rc[1]) < radius).astype(np.float64)


@pytest.mark.parametrize("centre", [(20.0, 40.0), (45.0, 18.0), (31.5, 31.5)])
def test_moving_disc_off_centre(centre):
    found = locate_lv_from_cine(_moving_disc(centre), (1.5, 1.5))
    assert found is not None and found.method == "cine"
    assert np.hypot(*(np.asarray(found.centre_rc) - centre)) < 1.0


def test_static_bright_structure_is_ignored():
    rng = np.random.default_rng(0)
    frames = _moving_disc((22.0, 44.0))
    frames[:, 40:60, 5:25] = 3.0  # brighter than the blood pool, but static
    frames += rng.normal(0, 0.05, frames.shape)
    found = locate_lv_from_cine(frames, (1.5, 1.5))
    assert np.hypot(*(np.asarray(found.centre_rc) - (22.0, 44.0))) < 1.0


@pytest.mark.parametrize(("centre", "spacing", "seed"), [((40.0, 55.0), 1.5, 0), ((58.0, 40.0), 1.3, 1),
                                                         ((35.0, 62.0), 1.8, 2)])
def test_lv_beside_a_beating_rv_and_a_static_structure(make_slice, centre, spacing, seed):
    s = make_slice(centre_rc=centre, spacing_rc=(spacing, spacing), noise=0.05, seed=seed)
    found = locate_lv_from_cine(s.cine, s.spacing_rc)
    assert np.hypot(*(np.asarray(found.centre_rc) - centre)) < 1.0


def test_prior_breaks_a_tie_between_two_beating_discs():
    frames = _moving_disc((16.0, 16.0)) + _moving_disc((48.0, 48.0))
    near_second = locate_lv_from_cine(frames, (1.5, 1.5), prior_rc=(50.0, 50.0), prior_sigma_mm=20.0)
    near_first = locate_lv_from_cine(frames, (1.5, 1.5), prior_rc=(10.0, 10.0), prior_sigma_mm=20.0)
    assert np.allclose(near_second.centre_rc, (48, 48), atol=1)
    assert np.allclose(near_first.centre_rc, (16, 16), atol=1)


def test_nothing_moves():
    assert locate_lv_from_cine(np.ones((25, 32, 32)), (1.0, 1.0)) is None


def test_motion_map_matches_a_direct_fourier_sum():
    frames = np.random.default_rng(0).random((10, 8, 8))
    t = np.arange(10)[:, None, None]
    direct = np.abs(np.sum(frames * np.exp(-2j * np.pi * t / 10), axis=0)) * 2 / 10
    scale = np.percentile(frames, 99)
    np.testing.assert_allclose(motion_map(frames, smooth_mm=1e-6), direct / scale, rtol=1e-6, atol=1e-9)


def test_centre_from_labels():
    labels = np.zeros((20, 30), np.uint8)
    labels[4:9, 10:15] = 1
    labels[4:9, 15:17] = 3
    labels[0:2, 0:2] = 0
    found = centre_from_labels(labels)
    assert found.centre_rc == pytest.approx((6.0, 13.0)) and found.method == "labels"
    from scipy.ndimage import center_of_mass

    assert found.centre_rc == pytest.approx(center_of_mass(labels > 0))
    assert centre_from_labels(np.zeros((5, 5), np.uint8)) is None
