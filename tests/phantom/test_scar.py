"""Scar profiles and regional motion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pscgan.phantom.anatomy import ANGLES_DEG, MIN_SCAR_DEPTH_MM, slice_anatomy
from pscgan.phantom.params import sample_subject
from pscgan.phantom.scar import (
    motion_amplitude,
    regional_motion,
    scar_profile,
    tukey,
    wrapped_gaussian_smooth,
)


def test_tukey_window() -> None:
    x = np.linspace(-1.2, 1.2, 241)
    w = tukey(x, 0.4)
    assert w[np.abs(x) <= 0.6].min() == 1.0 and w[np.abs(x) >= 1.0].max() == 0.0
    assert np.all(np.diff(w[x >= 0]) <= 1e-12)
    assert tukey(np.array([0.5]), 1.0)[0] == pytest.approx(0.5)


def test_motion_table_band_edges() -> None:
    tei = np.array([0.0, 0.25, 0.5, 0.75, 1.0, 0.125])
    a = motion_amplitude(tei, hyperkinesis=1.1, offset=0.0)
    assert a.tolist()[:5] == pytest.approx([1.1, 0.75, 0.45, 0.15, -0.2])
    assert 0.75 < a[5] < 1.1
    assert motion_amplitude(tei, hyperkinesis=1.0, offset=0.05)[4] == pytest.approx(-0.15)


def test_wrapped_gaussian_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    v = rng.uniform(size=720)
    sigma_deg = 12.0
    ours = wrapped_gaussian_smooth(v, sigma_deg)
    ref = ndimage.gaussian_filter1d(v, sigma_deg / 0.5, mode="wrap", truncate=8.0)
    assert np.abs(ours - ref).max() < 1e-6


def test_normal_subject_has_no_scar_and_uniform_motion() -> None:
    p = sample_subject(4, normal=True)
    prof = scar_profile(p, p.slices[1], ANGLES_DEG)
    assert prof.tei.max() == 0.0 and prof.territories == []
    a, delay = regional_motion(p, prof)
    assert np.allclose(a, 1.0) and np.allclose(delay, 0.0)


def test_scar_is_subendocardial_and_slows_the_wall() -> None:
    for seed in range(12):
        p = sample_subject(seed, normal=False)
        for sl in p.slices:
            anatomy = slice_anatomy(p, sl)
            tei = anatomy.scar.tei
            if tei.max() == 0:
                continue
            depth = tei * (anatomy.r_epi - anatomy.r_endo)
            assert np.all((depth == 0) | (depth >= MIN_SCAR_DEPTH_MM - 1e-9))
            radii = anatomy.scar_radii
            # wavefront: every scar layer starts at the endocardium and stays inside the wall
            layers = [radii["mvo"], radii["core"], radii["label"], radii["bz"], anatomy.r_epi]
            for inner, outer in zip(layers[:-1], layers[1:]):
                assert np.all(inner <= outer + 1e-9)
            a, delay = regional_motion(p, anatomy.scar)
            core, remote = tei > 0.6, tei == 0
            if core.any() and remote.any():
                assert a[core].mean() < 0.6 < a[remote].mean()
                assert delay[core].mean() > delay[remote].mean()
